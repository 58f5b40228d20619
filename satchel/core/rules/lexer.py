"""The filter scanner: text -> tokens, rune for rune as PocketBase's fexpr scanner reads them.

The quirks are kept on purpose, because a filter the reference rejects must be rejected here
too: a group's text is scanned again by the parser, and function calls nest at most three deep.
A NUL character is refused anywhere. Inside quotes, only the escapes in ESCAPES stand for a
character; any other backslash stays as written (`\\s`, `\\u00e9`, `\\x41` are two or more chars).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ...strconv import go_quote
from .errors import FilterError

EOF = "\x00"
MAX_FUNC_DEPTH = 3

SIGNS = frozenset({"=", "!=", "~", "!~", "<", "<=", ">", ">=", "?=", "?!=", "?~", "?!~", "?<", "?<=", "?>", "?>="})
JOINS = frozenset({"&&", "||"})
# The escapes the reference turns into their character (checked against the binary).
ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
_ESCAPE = re.compile(r"\\([\\\"'ntr])")

# token kinds
WS, JOIN, SIGN, IDENT, FUNC, NUMBER, TEXT, GROUP, COMMENT, END = (
    "whitespace", "join", "sign", "identifier", "function", "number", "text", "group", "comment", "eof",
)


@dataclass(frozen=True)
class Token:
    kind: str
    literal: str
    args: tuple[Token, ...] = field(default=())


def _is_ws(ch: str) -> bool:
    return ch in " \t\n"


def _is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_ident_start(ch: str) -> bool:
    return _is_letter(ch) or ch in "@_#"


def _is_number_start(ch: str) -> bool:
    return ch == "-" or _is_digit(ch)


def _is_sign_rune(ch: str) -> bool:
    return ch in "=?!><~"


def _valid_identifier(literal: str) -> bool:
    """Not ending with `.`/`:` and not just a lone special start rune."""
    return literal[-1] not in ".:" and not (len(literal) == 1 and literal in "@_#")


class Scanner:
    """Reads one token at a time from `text`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def read(self) -> str:
        if self.pos >= len(self.text):
            self.pos += 1  # keeps unread() symmetric, as the Go scanner's position does
            return EOF
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def unread(self) -> None:
        if self.pos > 0:
            self.pos -= 1

    def peek(self) -> str:
        ch = self.read()
        self.unread()
        return ch

    def scan(self) -> Token:
        ch = self.peek()
        if ch == EOF:
            return Token(END, "")
        if _is_ws(ch):
            return self._scan_run(WS, _is_ws)
        if ch == "(":
            return self.scan_group()
        if _is_ident_start(ch):
            return self.scan_identifier(MAX_FUNC_DEPTH)
        if _is_number_start(ch):
            return self.scan_number()
        if ch in "'\"":
            return self.scan_text(preserve_quotes=False)
        if _is_sign_rune(ch):
            token = self._scan_run(SIGN, _is_sign_rune)
            if token.literal not in SIGNS:
                raise FilterError(f"invalid sign operator {go_quote(token.literal)}")
            return token
        if ch in "&|":
            token = self._scan_run(JOIN, lambda c: c in "&|")
            if token.literal not in JOINS:
                raise FilterError(f"invalid join operator {go_quote(token.literal)}")
            return token
        if ch == "/":
            return self.scan_comment()
        raise FilterError(f"unexpected character {go_quote(ch)}")

    def _scan_run(self, kind: str, accept) -> Token:
        start = self.pos
        while True:
            ch = self.read()
            if ch == EOF or not accept(ch):
                self.unread()
                break
        return Token(kind, self.text[start : self.pos])

    def scan_number(self) -> Token:
        buf: list[str] = []
        had_dot = False
        while True:
            ch = self.read()
            if ch == EOF:
                self.unread()
                break
            if not _is_digit(ch) and (ch != "-" or buf) and (ch != "." or had_dot):
                self.unread()
                break
            buf.append(ch)
            had_dot = had_dot or ch == "."
        literal = "".join(buf)
        if literal == "-" or literal[0] == "." or literal[-1] == ".":
            raise FilterError(f"invalid number {go_quote(literal)}")
        return Token(NUMBER, literal)

    def scan_text(self, preserve_quotes: bool) -> Token:
        mark = self.read()
        buf = [mark]
        prev = ""
        closed = False
        while True:
            ch = self.read()
            if ch == EOF:
                self.unread()
                break
            buf.append(ch)
            if ch == mark and prev != "\\":
                closed = True
                break
            # An escaped backslash escapes nothing after it: "a\\" is closed (as in the reference).
            prev = "" if ch == "\\" and prev == "\\" else ch
        literal = "".join(buf)
        if not closed:
            raise FilterError(f"invalid quoted text {go_quote(literal)}")
        if not preserve_quotes:
            literal = unescape(literal[1:-1])
        return Token(TEXT, literal)

    def scan_comment(self) -> Token:
        if self.read() != "/" or self.read() != "/":
            raise FilterError("invalid comment")
        start = self.pos
        while True:
            ch = self.read()
            if ch in (EOF, "\n"):
                end = self.pos - 1
                if ch == EOF:
                    self.unread()
                break
        return Token(COMMENT, self.text[start:end].strip())

    def scan_identifier(self, func_depth: int) -> Token:
        buf = [self.read()]
        while True:
            ch = self.read()
            if ch == EOF:
                self.unread()
                break
            if ch == "(":
                name = "".join(buf)
                if func_depth <= 0:
                    raise FilterError(f"max nested function arguments reached (max: {MAX_FUNC_DEPTH})")
                if not _valid_identifier(name):
                    raise FilterError(f"invalid function name {go_quote(name)}")
                self.unread()
                return self.scan_function_args(name, func_depth)
            if not (_is_letter(ch) or _is_digit(ch) or ch in ".:_"):
                self.unread()
                break
            buf.append(ch)
        literal = "".join(buf)
        if not _valid_identifier(literal):
            raise FilterError(f"invalid identifier {go_quote(literal)}")
        return Token(IDENT, literal)

    def scan_group(self) -> Token:
        self.read()  # the opening bracket is not part of the group's text
        buf: list[str] = []
        depth = 1
        while True:
            ch = self.read()
            if ch == EOF:
                self.unread()
                break
            if ch == "(":
                depth += 1
                buf.append(ch)
            elif ch in "'\"":
                self.unread()
                buf.append(self.scan_text(preserve_quotes=True).literal)
            elif ch == ")":
                depth -= 1
                if depth <= 0:
                    break
                buf.append(ch)
            else:
                buf.append(ch)
        if depth > 0:
            raise FilterError(f"invalid formatted group - missing {depth} closing bracket(s)")
        return Token(GROUP, "".join(buf))

    def scan_function_args(self, name: str, func_depth: int) -> Token:
        args: list[Token] = []
        self.read()  # "("
        expect_comma = False
        while True:
            ch = self.read()
            if ch == EOF:
                raise FilterError(f"invalid or incomplete function {go_quote(name)} (expected ')')")
            if ch == ")":
                return Token(FUNC, name, tuple(args))
            if _is_ws(ch):
                continue
            if ch == "/":
                self.unread()
                self.scan_comment()
                continue
            is_comma = ch == ","
            if expect_comma != is_comma:
                problem = "expected comma after the last argument" if expect_comma else "unexpected comma"
                raise FilterError(f"{problem} in function {go_quote(name)}")
            expect_comma = False
            if is_comma:
                continue
            self.unread()
            if _is_ident_start(ch):
                args.append(self.scan_identifier(func_depth - 1))
            elif _is_number_start(ch):
                args.append(self.scan_number())
            elif ch in "'\"":
                args.append(self.scan_text(preserve_quotes=False))
            else:
                raise FilterError(f"unsupported argument character {go_quote(ch)} in function {go_quote(name)}")
            expect_comma = True


def unescape(text: str) -> str:
    """Left to right, each backslash and the character after it: ESCAPES' character, or both kept."""
    return _ESCAPE.sub(lambda match: ESCAPES[match[1]], text)


def tokens(text: str) -> list[Token]:
    """Every token of `text` but whitespace and comments."""
    if EOF in text:
        raise FilterError("unexpected character '\\x00'")  # the reference refuses NUL anywhere
    scanner = Scanner(text)
    out: list[Token] = []
    while True:
        token = scanner.scan()
        if token.kind == END:
            return out
        if token.kind not in (WS, COMMENT):
            out.append(token)
