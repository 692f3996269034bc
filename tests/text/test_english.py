"""The spoken form of English text: each kind of written form, several cases each."""

from __future__ import annotations

import re

from ustad.text.english import read_words, spoken_english, voice_english


def said(text: str) -> str:
    """The spoken form, compared case- and punctuation-insensitively."""
    return " ".join(re.sub(r"[^\w']+", " ", spoken_english(text).lower()).split())


def check(cases: list[tuple[str, str]]) -> None:
    wrong = [(text, said(text), want) for text, want in cases if said(text) != want]
    assert not wrong


def test_cardinals_decimals_negatives_and_thousands() -> None:
    check(
        [
            ("I have 3 cats.", "i have three cats"),
            ("There are 17 boys.", "there are seventeen boys"),
            ("He is 45.", "he is forty five"),
            ("We sold 1,500 books.", "we sold one thousand five hundred books"),
            ("It holds 2,000,000 people.", "it holds two million people"),
            ("Add 2.5 cups.", "add two point five cups"),
            ("Pi is 3.14.", "pi is three point one four"),
            ("Take 0.5 of it.", "take zero point five of it"),
            ("It was -5 outside.", "it was minus five outside"),
            ("Sales fell -10%.", "sales fell minus ten percent"),
            ("The total was 735 rupees.", "the total was seven hundred thirty five rupees"),
            ("Count to 100.", "count to one hundred"),
        ]
    )


def test_years_and_decades() -> None:
    check(
        [
            ("World War II ended in 1945.", "world war two ended in nineteen forty five"),
            ("He was born in 2008.", "he was born in two thousand eight"),
            ("She left in 2015.", "she left in twenty fifteen"),
            ("It happened in the 1900s.", "it happened in the nineteen hundreds"),
            ("Music of the 1990s.", "music of the nineteen nineties"),
            ("Pakistan was made in 1947.", "pakistan was made in nineteen forty seven"),
            ("Since 1905 it stood.", "since nineteen oh five it stood"),
            ("Born on May 23, 1999.", "born on may twenty third nineteen ninety nine"),
        ]
    )


def test_ordinals_and_days_of_months() -> None:
    check(
        [
            ("She came 1st.", "she came first"),
            ("He came 22nd.", "he came twenty second"),
            ("I came 3rd.", "i came third"),
            ("The 101st day.", "the one hundred first day"),
            ("We met on Jan. 5.", "we met on january fifth"),
            ("On Dec. 25th we eat.", "on december twenty fifth we eat"),
        ]
    )


def test_money_in_several_currencies() -> None:
    check(
        [
            ("It costs $500.", "it costs five hundred dollars"),
            ("It costs $1.", "it costs one dollar"),
            ("It costs $1.50.", "it costs one dollar fifty cents"),
            ("Only $0.99!", "only ninety nine cents"),
            ("Pay £20 now.", "pay twenty pounds now"),
            ("It is €5.", "it is five euros"),
            ("I paid Rs. 1,500 for it.", "i paid one thousand five hundred rupees for it"),
            ("I paid Rs 200.", "i paid two hundred rupees"),
            ("It costs PKR 250.", "it costs two hundred fifty rupees"),
            ("It costs ₨500.", "it costs five hundred rupees"),
            ("It costs 300 PKR.", "it costs three hundred rupees"),
            ("Fee: Rs. 500/- only.", "fee five hundred rupees only"),
            ("They raised $5 million.", "they raised five million dollars"),
            ("It costs Rs. 5 lakh.", "it costs five lakh rupees"),
            ("It costs PKR 2 million.", "it costs two million rupees"),
            ("It costs $2.5m.", "it costs two point five million dollars"),
        ]
    )


def test_percentages() -> None:
    check(
        [
            ("Only 10% of the tickets are left.", "only ten percent of the tickets are left"),
            ("Prices rose 2.5%.", "prices rose two point five percent"),
            ("50% of the class passed.", "fifty percent of the class passed"),
            ("About 100 % sure.", "about one hundred percent sure"),
        ]
    )


def test_clock_times() -> None:
    check(
        [
            ("The class starts at 9:30 a.m.", "the class starts at nine thirty a m"),
            ("Meet me at 10:05.", "meet me at ten oh five"),
            ("Lunch is at 12:00.", "lunch is at twelve o'clock"),
            ("Come at 9am.", "come at nine a m"),
            ("Call at 5:30 p.m. today.", "call at five thirty p m today"),
            ("It starts at 3 PM.", "it starts at three p m"),
            ("The bus is at 14:45.", "the bus is at fourteen forty five"),
        ]
    )


def test_units_after_numbers() -> None:
    check(
        [
            ("The bag weighs 2.5 kg.", "the bag weighs two point five kilograms"),
            ("It weighs 1 kg.", "it weighs one kilogram"),
            ("Run 5 km.", "run five kilometers"),
            ("Drive at 100 km/h.", "drive at one hundred kilometers per hour"),
            ("Drive at 60 mph.", "drive at sixty miles per hour"),
            ("Add 250 ml of milk.", "add two hundred fifty milliliters of milk"),
            ("It is 25°C today.", "it is twenty five degrees celsius today"),
            ("It is 77 °F.", "it is seventy seven degrees fahrenheit"),
            ("Cut 10 cm of rope.", "cut ten centimeters of rope"),
            ("Wait 5 min.", "wait five minutes"),
            ("Add 200g of flour.", "add two hundred grams of flour"),
            (
                "Mt. Everest is 8,849 m high.",
                "mount everest is eight thousand eight hundred forty nine meters high",
            ),
            ("A 5G phone.", "a 5g phone"),
        ]
    )


def test_abbreviations_by_context() -> None:
    check(
        [
            (
                "Dr. Smith Jr. lives on Baker St.",
                "doctor smith junior lives on baker street",
            ),
            ("He lives on Mulholland Dr. now.", "he lives on mulholland drive now"),
            ("We visited St. Paul's.", "we visited saint paul's"),
            ("Mr. Khan and Mrs. Ali met.", "mister khan and missus ali met"),
            ("Ask Prof. Ahmed.", "ask professor ahmed"),
            ("My room is No. 2.", "my room is number two"),
            ("House No.1 is ours.", "house number one is ours"),
            ("The answer is no.", "the answer is no"),
            ("Open Mon. to Fri.", "open monday to friday"),
            ("Open Mon-Fri.", "open monday to friday"),
            ("Sales Jan-Mar.", "sales january to march"),
            ("Due on Feb. 2.", "due on february second"),
            ("Fruit, e.g. apples.", "fruit for example apples"),
            ("Pens, books, etc.", "pens books et cetera"),
            ("Pakistan vs. India.", "pakistan versus india"),
            ("Tom & Jerry", "tom and jerry"),
        ]
    )


def test_roman_numerals_of_wars_and_rulers() -> None:
    check(
        [
            ("World War I began.", "world war one began"),
            ("Henry VIII had six wives.", "henry the eighth had six wives"),
            ("Elizabeth II was queen.", "elizabeth the second was queen"),
            ("Elizabeth I was queen.", "elizabeth the first was queen"),
            ("Pope John Paul II spoke.", "pope john paul the second spoke"),
            ("Louis XIV was king.", "louis the fourteenth was king"),
            ("Read Chapter IV.", "read chapter four"),
            ("After WWII and WW1.", "after world war two and world war one"),
            ("King Charles III spoke.", "king charles the third spoke"),
            ("Pope Benedict XVI wrote.", "pope benedict the sixteenth wrote"),
            ("He lives in Washington DC.", "he lives in washington dc"),
            ("Take vitamin C daily.", "take vitamin c daily"),
        ]
    )


def test_the_pronoun_i_stays() -> None:
    check(
        [
            ("Then I left.", "then i left"),
            ("Malcolm X spoke.", "malcolm x spoke"),
            ("Ali and I went home.", "ali and i went home"),
            ("Yes, I did.", "yes i did"),
        ]
    )


def test_phone_numbers_and_leading_zeros() -> None:
    check(
        [
            (
                "My number is 0300 1234567.",
                "my number is zero three zero zero one two three four five six seven",
            ),
            ("Call 0300-1234567.", "call zero three zero zero one two three four five six seven"),
            ("Dial +92 300 1234567.",
             "dial plus nine two three zero zero one two three four five six seven"),
            ("The code is 0583.", "the code is zero five eight three"),
        ]
    )  # fmt: skip


def test_ranges_and_fractions() -> None:
    check(
        [
            ("Read pages 10-20.", "read pages ten to twenty"),
            ("Wait 2–3 days.", "wait two to three days"),
            ("We need 2-3 kg.", "we need two to three kilograms"),
            ("I need 1/4 kg of sugar.", "i need one quarter of a kilogram of sugar"),
            ("The 2020-21 season.", "the twenty twenty to twenty one season"),
            ("Eat 1/2 a cake.", "eat one half a cake"),
            ("Add 3/4 of it.", "add three quarters of it"),
            ("Take 1/3 now.", "take one third now"),
            ("Pour 2 1/2 cups.", "pour two and one half cups"),
            ("Open 24/7.", "open twenty four seven"),
            ("A 50/50 chance.", "a fifty fifty chance"),
            ("We lived there 1990-1995.", "we lived there nineteen ninety to nineteen ninety five"),
        ]
    )


def test_ordinary_words_stay_as_written() -> None:
    for text in ("Don't go there.", "I'm fine, thanks!", "Wi-Fi and e-mail", "colour"):
        assert spoken_english(text) == text


def test_shown_text_is_untouched_and_dots_of_abbreviations_go() -> None:
    assert spoken_english("Dr. Smith is here.") == "Doctor Smith is here."
    assert spoken_english("Call me at 10 AM. Then go.") == "Call me at ten a m. Then go."
    assert spoken_english("Lives on Baker St.") == "Lives on Baker Street."


def test_the_voice_gets_letter_names_as_one_word() -> None:
    # Piper reads a lone "a" as the article: tiny.en heard "nine thirty a m" as "9.38M".
    assert voice_english("at 9:30 a.m.") == "at nine thirty AM."
    assert voice_english("at 5 pm") == "at five PM"


def test_numbers_keep_their_other_readings() -> None:
    (word,) = read_words(["2648"])
    assert word.readings[0] == ("two", "thousand", "six", "hundred", "forty", "eight")
    assert ("two", "six", "four", "eight") in word.readings
    assert read_words(["cat"])[0].readings == ()


def test_nothing_left_to_say() -> None:
    assert spoken_english("👍🎉") == ""
    assert spoken_english("<speak></speak>") == ""


def test_saying_the_spoken_form_again_changes_nothing() -> None:
    # Replies may pass through the normaliser twice (built from spoken text, then voiced).
    for text in (
        "Dr. Smith Jr. lives on Baker St.",
        "It costs $1.50 or Rs. 5 lakh.",
        "World War II ended in 1945.",
        "Call 0300 1234567 at 9:30 a.m. on Mon.",
        "It weighs 2.5 kg, 10% of 1,200 kg.",
    ):
        once = spoken_english(text)
        assert spoken_english(once) == once


def test_numeric_dates_day_first() -> None:
    check(
        [
            ("Born on 21/03/2024.", "born on the twenty first of march twenty twenty four"),
            ("Due 3/21/2024.", "due the twenty first of march twenty twenty four"),
            ("On 05-06-07 we met.", "on the fifth of june oh seven we met"),
            ("Since 1.5.2024 it is open.", "since the first of may twenty twenty four it is open"),
            ("It was 1/3 of the cake.", "it was one third of the cake"),
        ]
    )


def test_numbers_one_calls_are_said_digit_by_digit() -> None:
    check(
        [
            ("Call 911.", "call nine one one"),
            ("Dial 1122 for help.", "dial one one two two for help"),
            ("Call 2 friends.", "call two friends"),
            ("Please call 100 people.", "please call one hundred people"),
        ]
    )


def test_any_number_written_has_a_reading() -> None:
    # Inputs to the speech route are bounded in characters, not in the size of their
    # numbers: none may raise, and every digit is said.
    for text in ("1" + ",000" * 40, "$" + "9" * 300, "1/" + "9" * 200, "Rs. 1" + ",000" * 9):
        said_text = said(text)
        assert said_text and not any(ch.isdigit() for ch in said_text), text


def test_letters_and_the_pronoun_are_not_numerals() -> None:
    check(
        [
            ("I am in Grade C.", "i am in grade c"),
            ("Mary I love you.", "mary i love you"),
            ("It was John I think.", "it was john i think"),
            ("King Charles I was executed.", "king charles the first was executed"),
            ("Queen Elizabeth I ruled England.", "queen elizabeth the first ruled england"),
        ]
    )


def test_a_dotted_clock_time_after_at() -> None:
    check(
        [
            ("Come at 9.30 please.", "come at nine thirty please"),
            ("Open until 10.15.", "open until ten fifteen"),
            ("Add 9.30 grams.", "add nine point three zero grams"),
        ]
    )


def test_amounts_grouped_in_lakhs_and_crores() -> None:
    check(
        [
            ("Rs. 1,00,000 only.", "one hundred thousand rupees only"),
            ("It costs 15,00,000 rupees.", "it costs one million five hundred thousand rupees"),
            ("Pay ₨ 2,50,000.", "pay two hundred fifty thousand rupees"),
            ("It is $1.5.", "it is one dollar fifty cents"),
            ("We sold 1,500 books.", "we sold one thousand five hundred books"),
        ]
    )


def test_a_lone_year_beside_is_or_was() -> None:
    check(
        [
            ("It was 1999.", "it was nineteen ninety nine"),
            ("The year is 2024.", "the year is twenty twenty four"),
            (
                "1947 was the year of independence.",
                "nineteen forty seven was the year of independence",
            ),
            ("It was 1500 rupees.", "it was one thousand five hundred rupees"),  # a quantity
        ]
    )


def test_iso_dates_feet_and_inches_and_fraction_characters() -> None:
    check(
        [
            ("Born on 2024-03-05.", "born on the fifth of march twenty twenty four"),
            (
                "The form says 1999-12-31.",
                "the form says the thirty first of december nineteen ninety nine",
            ),
            ("She is 5'4\".", "she is five feet four inches"),
            ("He is 6’1” tall.", "he is six feet one inch tall"),
            ("Add ½ cup of sugar.", "add one half cup of sugar"),
            ("It took 3½ years.", "it took three and a half years"),
            ("It costs 50¢.", "it costs fifty cents"),
            ("She scored 9/10.", "she scored nine out of ten"),
        ]
    )


def test_numbers_inside_hyphenated_words() -> None:
    check(
        [
            ("COVID-19 spread fast.", "covid nineteen spread fast"),
            ("It was the mid-1990s.", "it was the mid nineteen nineties"),
            ("A 10-minute walk.", "a ten minute walk"),
            ("Open 2-3pm.", "open two to three p m"),
            ("A well-known man.", "a well known man"),
        ]
    )
