"""Retrieval evaluation corpora built from documentation Debian ships, with questions whose
answer passage is known from the corpus's own structure.

Each corpus is a list of documents (markdown-headed text, one per page, manual or FAQ
file) and questions; a question names its document and the character span of its answer
(a FAQ answer, a manual node, a function entry). A retrieved chunk answers a question
when it belongs to that document and overlaps that span. Everything else in the corpus
is a distractor. No corpus text is written by us; questions are headings, FAQ questions
or the summary sentence of a function entry, taken as they stand.

- `python-faq`: the Python FAQ (python3.11-doc), question = FAQ heading, answer = its
  section; distractors: the FAQ and ~40 library reference pages.
- `gnu-manuals`: GNU manuals in info format (coreutils, grep, sed, find, diffutils, gzip,
  wget, ...), question = a node's title, answer = the node.
- `c-functions`: info manuals of C libraries (nettle, libtasn1, gettext, libffi, gpgrt),
  question = the first sentence of a function entry, answer = the entry.
- `debian-faq` (held out: no parameter was chosen on it): the Debian FAQ (`debian-faq`)
  with the Debian Reference (`debian-reference-en`) and the Developer's Reference
  (`developers-reference`) and Debian Policy (`debian-policy`) as distractors; question = FAQ
  heading, answer = its section.
"""

import gzip
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

PYTHON_DOC = Path("/usr/share/doc/python3.11/html")
INFO_DIR = Path("/usr/share/info")
DEBIAN_FAQ = Path("/usr/share/doc/debian/FAQ")
DEBIAN_REFERENCE = Path("/usr/share/debian-reference")
DEVELOPERS_REFERENCE = Path("/usr/share/developers-reference")
DEBIAN_POLICY = Path("/usr/share/doc/debian-policy/policy.html")
_DEVREF_SKIP = {"index.html", "search.html", "developers-reference.html", "genindex.html"}
MAX_QUESTIONS = 150
_LIBRARY_PAGES = (
    "json csv os.path pathlib shutil subprocess threading queue datetime time random re "
    "argparse logging sqlite3 itertools functools collections heapq bisect hashlib secrets "
    "base64 zipfile tarfile gzip tempfile glob fnmatch textwrap string struct copy pickle "
    "statistics math decimal fractions uuid urllib.parse asyncio-task socket ssl email"
).split()
_GNU_MANUALS = ("coreutils", "grep", "sed", "find", "diffutils", "gzip", "wget", "bc", "time")
_C_MANUALS = ("nettle", "libtasn1", "gettext", "libffi", "gpgrt", "gnupg")


class CorpusMissingError(Exception):
    """The Debian package holding a corpus is not installed."""


@dataclass(frozen=True)
class Question:
    text: str
    document: int  # index into Corpus.documents
    start: int  # answer span in that document's text
    end: int


@dataclass
class Corpus:
    name: str
    source: str  # the Debian package(s) the text comes from
    held_out: bool = False
    documents: list[tuple[str, str]] = field(default_factory=list)  # (title, text)
    questions: list[Question] = field(default_factory=list)

    def add_document(self, title: str, sections: list[tuple[str, str]]) -> list[tuple[int, int]]:
        """Append a document of (heading, body) sections; the body spans in its text."""
        parts: list[str] = []
        spans = []
        offset = 0
        for heading, body in sections:
            head = f"## {heading}\n\n" if heading else ""
            spans.append((offset + len(head), offset + len(head) + len(body)))
            piece = f"{head}{body}\n\n"
            parts.append(piece)
            offset += len(piece)
        self.documents.append((title, "".join(parts)))
        return spans


def sample(questions: list[Question], limit: int = MAX_QUESTIONS) -> list[Question]:
    """At most `limit` questions spread evenly over the list (deterministic)."""
    if len(questions) <= limit:
        return questions
    step = len(questions) / limit
    return [questions[int(i * step)] for i in range(limit)]


def _unique(questions: list[Question]) -> list[Question]:
    """Drop questions whose text occurs more than once: their answer is ambiguous."""
    counts: dict[str, int] = {}
    for q in questions:
        counts[q.text.lower()] = counts.get(q.text.lower(), 0) + 1
    return [q for q in questions if counts[q.text.lower()] == 1]


# ---- HTML (Sphinx pages, the Debian FAQ) ------------------------------------------------


class _Sections(HTMLParser):
    """Text of an HTML page split at h1-h4 headings; navigation and scripts dropped."""

    _SKIP = {"script", "style", "nav", "head"}
    _BLOCK = {"p", "pre", "li", "dt", "dd", "div", "tr", "br", "table", "blockquote", "dl"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, list[str]]] = [("", [])]
        self._heading: list[str] | None = None
        self._skip: list[str] = []  # open tags whose content is dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if self._skip:
            if tag == self._skip[-1] or tag in self._SKIP:
                self._skip.append(tag)
        elif tag in self._SKIP or "headerlink" in classes or "contents" in classes.split():
            self._skip.append(tag)
        elif tag in {"h1", "h2", "h3", "h4"}:
            self._heading = []
        elif tag in self._BLOCK:
            self.sections[-1][1].append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
        elif tag in {"h1", "h2", "h3", "h4"} and self._heading is not None:
            self.sections.append((" ".join("".join(self._heading).split()), []))
            self._heading = None
        elif tag in self._BLOCK:
            self.sections[-1][1].append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._heading is not None:
            self._heading.append(data)
        else:
            self.sections[-1][1].append(data)


def html_sections(markup: str) -> list[tuple[str, str]]:
    """(heading, body) pairs of a page; bodies with collapsed blank lines."""
    parser = _Sections()
    parser.feed(markup)
    out = []
    for heading, pieces in parser.sections:
        lines = [" ".join(line.split()) for line in "".join(pieces).splitlines()]
        body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        if heading or body:
            out.append((heading.rstrip("¶").strip(), body))
    return out


def _sphinx_main(markup: str) -> str:
    start = markup.find('role="main"')
    end = markup.find('class="sphinxsidebar"', start)
    start = markup.find(">", start) + 1 if start >= 0 else 0
    return markup[start : end if end > 0 else len(markup)]


def _faq_corpus(
    corpus: Corpus, pages: list[tuple[str, list[tuple[str, str]]]], question_pages: set[str]
) -> Corpus:
    questions = []
    for title, sections in pages:
        spans = corpus.add_document(title, sections)
        doc = len(corpus.documents) - 1
        if title not in question_pages:
            continue
        for (heading, body), (start, end) in zip(sections, spans, strict=True):
            if heading.endswith("?") and len(body) >= 80:
                questions.append(Question(_strip_number(heading), doc, start, end))
    corpus.questions = _unique(questions)
    return corpus


def _strip_number(heading: str) -> str:
    return re.sub(r"^(\d+(\.\d+)*\.?\s+)", "", heading).strip()


def python_faq(library_pages: bool = True) -> Corpus:
    """The Python FAQ and (as distractors) library reference pages of python3.11-doc."""
    faq = sorted((PYTHON_DOC / "faq").glob("*.html"))
    if not faq:
        raise CorpusMissingError(f"no FAQ under {PYTHON_DOC}: apt-get install python3.11-doc")
    pages = []
    for path in faq:
        if path.stem != "index":
            pages.append((f"faq/{path.name}", html_sections(_sphinx_main(path.read_text()))))
    for name in _LIBRARY_PAGES if library_pages else ():
        path = PYTHON_DOC / "library" / f"{name}.html"
        if path.is_file():
            pages.append((f"library/{path.name}", html_sections(_sphinx_main(path.read_text()))))
    corpus = Corpus("python-faq", "python3.11-doc")
    return _faq_corpus(corpus, pages, {t for t, _ in pages if t.startswith("faq/")})


def debian_faq() -> Corpus:
    """The Debian FAQ (HTML chapters of the `debian-faq` package)."""
    chapters = sorted(DEBIAN_FAQ.glob("*.en.html")) if DEBIAN_FAQ.is_dir() else []
    chapters = [p for p in chapters if p.name != "index.en.html"]
    if not chapters:
        raise CorpusMissingError(f"no HTML under {DEBIAN_FAQ}: apt-get install debian-faq")
    pages = [(p.name, html_sections(p.read_text(errors="replace"))) for p in chapters]
    questions_from = {t for t, _ in pages}
    for path in sorted(DEBIAN_REFERENCE.glob("*.en.html")):
        if path.name != "index.en.html":
            text = path.read_text("utf-8", "replace")
            pages.append((f"reference/{path.name}", html_sections(text)))
    others = [*DEVELOPERS_REFERENCE.glob("*.html"), *DEBIAN_POLICY.glob("*.html")]
    for path in sorted(others):
        if path.name not in _DEVREF_SKIP:
            text = _sphinx_main(path.read_text("utf-8", "replace"))
            pages.append((f"{path.parent.name}/{path.name}", html_sections(text)))
    corpus = Corpus(
        "debian-faq",
        "debian-faq; distractors: debian-reference-en, developers-reference, debian-policy",
        held_out=True,
    )
    return _faq_corpus(corpus, pages, questions_from)


# ---- GNU info manuals ---------------------------------------------------------------------

_NODE_HEADER = re.compile(r"^File: [^,]+,\s+Node: ([^,\n]+)")
_UNDERLINE = re.compile(r"^[=*\-.]{3,}$")


def info_nodes(manual: str) -> list[tuple[str, str]]:
    """(title, body) of every node of an installed info manual (all its parts)."""
    files = sorted(INFO_DIR.glob(f"{manual}.info*.gz"))
    if not files:
        raise CorpusMissingError(f"no info manual {manual!r} under {INFO_DIR}")
    nodes = []
    for path in files:
        text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        for raw in text.split("\x1f"):
            lines = raw.strip("\n").splitlines()
            if not lines or not _NODE_HEADER.match(lines[0]):
                continue
            title, rest = lines[0], lines[1:]
            title = _NODE_HEADER.match(lines[0]).group(1).strip()  # type: ignore[union-attr]
            while rest and not rest[0].strip():
                rest = rest[1:]
            if len(rest) >= 2 and _UNDERLINE.match(rest[1].strip()):
                title, rest = rest[0].strip(), rest[2:]
            body = "\n".join(rest)
            body = body.split("\n* Menu:")[0].strip()
            if body:
                nodes.append((_strip_number(title), body))
    return nodes


def gnu_manuals() -> Corpus:
    """GNU manuals (info): question = node title, answer = the node."""
    corpus = Corpus("gnu-manuals", "coreutils, grep, sed, findutils, diffutils, gzip, wget...")
    questions = []
    for manual in _GNU_MANUALS:
        try:
            nodes = info_nodes(manual)
        except CorpusMissingError:
            continue
        for n in range(0, len(nodes), 12):  # documents of up to 12 nodes
            group = nodes[n : n + 12]
            spans = corpus.add_document(f"{manual}.info", group)
            doc = len(corpus.documents) - 1
            for (title, body), (start, end) in zip(group, spans, strict=True):
                if len(title.split()) >= 2 and len(body) >= 300:
                    questions.append(
                        Question(re.sub("[\u2018\u2019']", "", title), doc, start, end)
                    )
    if not corpus.documents:
        raise CorpusMissingError(f"none of the GNU info manuals under {INFO_DIR}")
    corpus.questions = _unique(questions)
    return corpus


_ENTRY = re.compile(r"^ -- (?:Function|Macro|Variable|Data type): ", re.M)
_PARAM = re.compile(r"^[A-Z_][A-Z_0-9]*: ")


def function_entries(body: str) -> list[tuple[int, int, str, str]]:
    """(start, end, name, summary sentence) of each ` -- Function:` entry in a node."""
    starts = [m.start() for m in _ENTRY.finditer(body)]
    entries = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(body)
        lines = body[start:end].splitlines()
        signature = lines[0]
        rest = [ln for ln in lines[1:] if not ln.startswith(" " * 10)]  # wrapped signature
        paragraphs = "\n".join(rest).split("\n\n")
        summary = ""
        for para in paragraphs:
            text = " ".join(para.split())
            if text and not _PARAM.match(text) and not text.startswith("--"):
                summary = re.split(r"(?<=[.!?])\s", text)[0]
                break
        name = re.findall(r"([A-Za-z_][A-Za-z_0-9]*)\s*\(", signature)
        if summary and name and len(summary.split()) >= 4:
            entries.append((start, end, name[0], summary.rstrip(".")))
    return entries


def c_functions(manuals: tuple[str, ...] = _C_MANUALS) -> Corpus:
    """C library manuals (info): question = an entry's summary, answer = the entry."""
    corpus = Corpus("c-functions", "nettle-dev, libtasn1-doc, gettext, libffi, gpgrt info")
    questions = []
    for manual in manuals:
        try:
            nodes = info_nodes(manual)
        except CorpusMissingError:
            continue
        for title, body in nodes:
            spans = corpus.add_document(f"{manual}: {title}", [(title, body)])
            doc = len(corpus.documents) - 1
            offset = spans[0][0]
            for start, end, _name, summary in function_entries(body):
                questions.append(Question(summary, doc, offset + start, offset + end))
    if not questions:
        raise CorpusMissingError(f"no C library info manuals under {INFO_DIR}")
    corpus.questions = _unique(questions)
    return corpus


_IMPERATIVES = frozenset(
    "initialize compute return encrypt decrypt set get create free read write check convert "
    "copy add process perform generate sign verify compare find encode decode import export "
    "allocate release clear update digest start parse search delete expand extract".split()
)
_NOT_VERBS = frozenset("this these is was its as has does us".split())


def _which_function(summary: str) -> str:
    """ "Initialize the state" -> "Which function do I use to initialize the state?";
    "Decodes DER data" -> "Which function decodes DER data?"."""
    verb, _, rest = summary.partition(" ")
    lead = f"{verb.lower()} {rest}" if not verb.isupper() else summary
    if verb.endswith("s") and not verb.endswith("ss"):
        return f"Which function {lead}?"
    return f"Which function do I use to {lead}?"


ANSWER_MANUALS = ("libtasn1", "nettle")


def function_answers(limit: int = 60) -> tuple[Corpus, list[tuple[str, str]]]:
    """The answer eval: (question, function name) pairs ("Which function ...?") and a
    corpus of the manual nodes holding their entries (sibling entries are the
    distractors: sha224_init beside sha256_init)."""
    pairs = []
    for manual in ANSWER_MANUALS:
        for title, body in info_nodes(manual):
            for _s, _e, name, summary in function_entries(body):
                verb = summary.split()[0].lower()
                if name.lower() in summary.lower() or len(summary.split()) > 25:
                    continue  # the answer would be in the question, or it is no summary
                if verb in _IMPERATIVES or (verb.endswith("s") and verb not in _NOT_VERBS):
                    pairs.append((_which_function(summary), name, f"{manual}: {title}"))
    seen: dict[str, int] = {}
    for q, _, _ in pairs:
        seen[q] = seen.get(q, 0) + 1
    pairs = [p for p in pairs if seen[p[0]] == 1]
    step = max(1, len(pairs) // limit)
    chosen = pairs[::step][:limit]
    nodes = {node for _, _, node in chosen}
    corpus = Corpus("c-function-answers", ", ".join(ANSWER_MANUALS))
    for manual in ANSWER_MANUALS:
        for title, body in info_nodes(manual):
            if f"{manual}: {title}" in nodes:
                corpus.add_document(f"{manual}: {title}", [(title, body)])
    return corpus, [(q, name) for q, name, _ in chosen]


LOADERS = {
    "python-faq": python_faq,
    "gnu-manuals": gnu_manuals,
    "c-functions": c_functions,
    "debian-faq": debian_faq,
}
