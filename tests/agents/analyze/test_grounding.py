"""Grounding rules for generated answers: loops stop, markers point at support, the
extractive fallback quotes the passages, citations are numbered by first use."""

from agents.analyze.grounding import (
    LoopGuard,
    adds_nothing,
    cut_loop,
    extractive_answer,
    ground,
    renumber,
    split_sentences,
)
from agents.analyze.passages import focus

PASSAGES = [
    "The asn1_der_decoding function fills the structure ELEMENT with values of a DER "
    "encoding string. It returns ASN1_SUCCESS when DER data was decoded.",
    "The shared MIME-info database is a set of files describing file types, with the "
    "glob patterns and magic numbers that identify them.",
]


def test_a_repeated_run_of_words_is_caught_while_streaming() -> None:
    # GIVEN a guard over 6-word runs
    guard = LoopGuard(6)
    sentence = "The database describes file types by glob patterns. "
    # WHEN a sentence streams once THEN no loop; WHEN it comes again THEN a loop
    assert not any(guard.feed(word + " ") for word in sentence.split())
    assert any(guard.feed(word + " ") for word in sentence.split())


def test_a_looping_answer_is_cut_after_its_last_whole_sentence() -> None:
    looping = "It is a database [2]. It lists glob patterns and magic numbers. " * 4
    assert cut_loop(looping, 6) == "It is a database [2]. It lists glob patterns and magic numbers."


def test_markers_are_moved_to_the_supporting_passage_or_added() -> None:
    # GIVEN an answer citing the wrong passage, and a sentence without a marker
    answer = (
        "The shared MIME-info database describes file types with glob patterns [1]. "
        "asn1_der_decoding fills ELEMENT with values of a DER encoding string."
    )
    # WHEN grounded
    checked = ground(answer, PASSAGES)
    # THEN every sentence cites the passage that supports it and nothing is unsupported
    assert checked.unsupported == []
    assert checked.text == (
        "The shared MIME-info database describes file types with glob patterns [2]. "
        "asn1_der_decoding fills ELEMENT with values of a DER encoding string [1]."
    )


def test_an_invented_sentence_is_reported_unsupported() -> None:
    checked = ground("The function asn1_encode_magic compresses images quickly [1].", PASSAGES)
    assert checked.unsupported == ["The function asn1_encode_magic compresses images quickly."]


def test_the_extractive_answer_quotes_the_sentences_nearest_the_question() -> None:
    quoted = extractive_answer("Which function decodes DER encoding data?", PASSAGES, 1)
    assert quoted == (
        "“The asn1_der_decoding function fills the structure ELEMENT with values of a DER "
        "encoding string.” [1]"
    )


def test_citations_are_numbered_by_first_use_and_merged_per_page() -> None:
    # GIVEN passages 1 and 3 from the same page, the answer citing 3, then 2, then 1
    keys = [("doc-a", 1), ("doc-b", 4), ("doc-a", 1)]
    text, order = renumber("First [3]. Second [2]. Third [1][3]. Bad [9].", keys)
    # THEN numbers follow first use, one page is one number, unknown markers vanish
    assert text == "First [1]. Second [2]. Third [1]. Bad ."
    assert order == [3, 2]


def test_sentences_split_at_ends_and_line_breaks() -> None:
    assert split_sentences("One thing. Two things!\n -- Function: int f (void)\nx") == [
        "One thing.",
        "Two things!",
        "-- Function: int f (void)",
        "x",
    ]


def test_a_long_passage_keeps_its_first_line_and_the_sentences_nearest_the_question() -> None:
    def words(text: str) -> int:
        return len(text.split())

    passage = (
        " -- Function: int asn1_der_decoding (asn1_node *ELEMENT)\n"
        "ELEMENT: pointer to an ASN1 structure. IDER: vector that contains the DER "
        "encoding. Fill the structure ELEMENT with values of a DER encoding string. "
        "The structure must just be created with function asn1_create_element."
    )
    trimmed = focus(passage, "Which function decodes DER encoding?", 38, words)
    assert trimmed.startswith("-- Function: int asn1_der_decoding")
    assert "values of a DER encoding string" in trimmed
    assert "pointer to an ASN1 structure" not in trimmed  # shares no word with the question
    assert words(trimmed) <= 38
    assert focus("short text", "anything", 24, words) == "short text"


def test_a_sentence_naming_an_identifier_the_passage_lacks_is_unsupported() -> None:
    passages = ["md5_init: Initialize the MD5 state of the context."]
    assert ground("The function md2_init initializes the MD5 state [1].", passages).unsupported
    assert not ground("The function md5_init initializes the MD5 state.", passages).unsupported


def test_the_extractive_answer_quotes_the_first_line_of_its_best_passage() -> None:
    passage = " -- Function: void md5_init (struct md5_ctx *CTX)\nInitialize the MD5 state."
    quoted = extractive_answer("Which function do I use to initialize the MD5 state?", [passage])
    assert quoted.startswith("“-- Function: void md5_init (struct md5_ctx *CTX)” [1]")
    assert "Initialize the MD5 state." in quoted


def test_a_heading_is_quoted_at_most_once_without_its_markdown_marks() -> None:
    passage = "## Shared MIME-info Database\n\nThe shared MIME-info database lists file types."
    quoted = extractive_answer("What is the shared MIME-info database?", [passage])
    assert quoted.count("Shared MIME-info Database") <= 1
    assert "#" not in quoted


def test_the_extractive_answer_quotes_the_head_of_the_paragraph_of_its_best_sentence() -> None:
    # GIVEN a chunk that starts in the previous entry, and the wanted entry's signature
    # on the line before its summary sentence
    passage = (
        "     constructions, in particular HMAC-SHA224.\n\n"
        " -- Function: void sha224_init (struct sha224_ctx *CTX)\n"
        "     Initialize the SHA224 state.\n\n"
        " -- Function: void sha224_update (struct sha224_ctx *CTX)\n     Hash more data."
    )
    # WHEN quoted for the question THEN the signature comes first, not the chunk's first line
    quoted = extractive_answer("Which function do I use to initialize the SHA224 state?", [passage])
    assert quoted.splitlines() == [
        "“-- Function: void sha224_init (struct sha224_ctx *CTX)” [1]",
        "“Initialize the SHA224 state.” [1]",
    ]


def test_a_trimmed_passage_keeps_the_head_of_the_paragraph_of_its_best_sentence() -> None:
    # GIVEN a chunk starting in another entry, the wanted entry's signature mid-chunk
    passage = (
        "Useful for some special constructions, in particular HMAC-SHA224.\n\n"
        " -- Function: void sha224_init (struct sha224_ctx *CTX)\n"
        "     Initialize the SHA224 state.\n\n"
        " -- Function: void sha224_update (struct sha224_ctx *CTX)\n     Hash more data."
        "\n\nThe digest is written to DIGEST, which must have room for LENGTH octets."
    )

    def words(text: str) -> int:
        return len(text.split())

    # WHEN trimmed for the question to a few words
    trimmed = focus(passage, "Which function do I use to initialize the SHA224 state?", 24, words)
    # THEN the model reads the signature with the summary sentence
    assert "sha224_init" in trimmed and "Initialize the SHA224 state." in trimmed
    assert words(trimmed) <= 24


def test_the_extractive_answer_quotes_sentences_not_titles_that_repeat_the_question() -> None:
    # GIVEN a passage whose headings repeat the question's words
    passage = (
        "## Shared MIME-info Database\n\nShared MIME-info Database Contributors\n\n"
        "The shared MIME-info database lists file types with their glob patterns."
    )
    # WHEN quoted THEN the sentence that says something is, the bare titles are not
    quoted = extractive_answer("What is the shared MIME-info database?", [passage])
    assert "lists file types with their glob patterns" in quoted
    assert "Contributors" not in quoted


def test_a_marker_copied_literally_from_the_prompt_is_dropped() -> None:
    # GIVEN a draft that copied "[n]" from the instructions WHEN grounded
    checked = ground("The function [n] decodes DER data [1].", PASSAGES)
    # THEN the placeholder is gone and the real marker stays
    assert "[n]" not in checked.text and "[1]" in checked.text


def test_lines_a_manual_wrapped_are_read_as_the_sentence_they_belong_to() -> None:
    # GIVEN an info-manual paragraph wrapped at 72 columns, then an entry's signature and
    # its indented description, then a list
    text = (
        "   The 'sort' command sorts the lines of its input files and writes\n"
        "   the result to standard output; with '-u' it drops repeated\n"
        "   lines.\n\n"
        " -- Function: void md5_init (struct md5_ctx *CTX) and a long signature\n"
        "     Initialize the MD5 state.\n"
        "   * first item of a list that is long enough to be wrapped text\n"
        "   * second item"
    )
    # WHEN it is split into sentences
    # THEN the wrapped paragraph is one sentence; signature, description and items stay apart
    assert split_sentences(text) == [
        "The 'sort' command sorts the lines of its input files and writes the result to "
        "standard output; with '-u' it drops repeated lines.",
        "-- Function: void md5_init (struct md5_ctx *CTX) and a long signature",
        "Initialize the MD5 state.",
        "* first item of a list that is long enough to be wrapped text",
        "* second item",
    ]


def test_an_answer_that_only_restates_the_question_adds_nothing() -> None:
    question = "Which function verifies the bcrypt password hash against the plaintext?"
    # GIVEN answers that echo the question, with or without a label and markers
    assert adds_nothing("The function verifies the bcrypt password hash [1].", question)
    assert adds_nothing(f"Question: {question} [1]", question)
    # AND one that names something the question does not
    assert not adds_nothing("blowfish_bcrypt_verify checks the hash [1].", question)
