"""Java and Rust sources are rewritten to count their assertions, every line kept in place."""

from __future__ import annotations

from aiev_agents.sandbox.counting_sources import (
    JAVA_COUNTER,
    RUST_PRELUDE,
    count_java_asserts,
    count_rust_asserts,
    masked_java,
)

JAVA = """class Problem {
    public static void main(String[] args) {
        assert add(1, 2) == 3 : "add; wrong";
        if (args.length > 0) assert (add(0, 0) == 0);
        String s = "assert x;"; // assert in a comment;
        /* assert(false); */
    }
}
"""


def test_each_java_assert_statement_is_preceded_by_a_counting_call_on_its_line():
    out = count_java_asserts(JAVA).splitlines()
    assert out[2] == '        { __AievCount.hit(); assert add(1, 2) == 3 : "add; wrong"; }'
    assert out[3] == "        if (args.length > 0) { __AievCount.hit(); assert (add(0, 0) == 0); }"


def test_java_asserts_in_strings_and_comments_are_left_alone():
    out = count_java_asserts(JAVA).splitlines()
    assert out[4:8] == JAVA.splitlines()[4:8]


def test_the_java_counter_class_is_one_appended_line():
    out = count_java_asserts(JAVA)
    assert out.splitlines()[-1] == JAVA_COUNTER
    assert len(out.splitlines()) == len(JAVA.splitlines()) + 1


def test_masking_keeps_length_and_newlines():
    masked = masked_java('a = "x\\"y"; // z\nb;')
    assert masked == "a =       ;     \nb;"


def test_the_rust_prelude_comes_after_inner_attributes_on_the_first_code_line():
    source = "#![allow(unused)]\n//! crate docs\nfn main() {\n    assert_eq!(1, 1);\n}\n"
    out = count_rust_asserts(source)
    assert out.splitlines()[:2] == ["#![allow(unused)]", "//! crate docs"]
    assert out.splitlines()[2] == RUST_PRELUDE + "fn main() {"
    assert out.splitlines()[3:] == ["    assert_eq!(1, 1);", "}"]
