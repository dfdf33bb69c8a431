# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""ASC X12 004010 / 005010 envelope: separators, tokenizer, envelope checks and splitter.

Envelope handling
-----------------
Separators come from the ISA segment: the element separator is the 4th byte, the component
separator is ISA16 and the segment terminator the byte after it.  ISA12 >= 00402 makes
ISA11 a repetition separator; no mapper here needs repeated elements, so it is only kept to
write acknowledgments.

Envelope errors are *collected* per transaction set (control numbers, SE segment count)
and per group/interchange (GE/IEA counts), as an X12 translator must do to write a 997/999
that rejects the bad sets and accepts the good ones.  :func:`read_interchange` raises
:class:`~.errors.ParseError` on the first collected error unless ``strict=False``.

Real-world tolerance (each recorded as a :class:`~.errors.DataQualityIssue`, never silent):

* a UTF-8 BOM and whitespace (CR/LF, tabs, indentation) around segments are ignored: EDI
  viewers and some VANs pretty-print interchanges;
* an ISA that is not fixed-width (106 bytes) is accepted when its 16 elements can still be
  split with the element separator: generators that trim ISA padding exist in the wild
  (``x12_810a_edinet.edi``);
* a newline used *as* the segment terminator is valid X12 and supported;
* business counts (CTT line counts, hash totals, TDS/AMT totals) that disagree with the
  lines become issues, not errors: they are checked again by the matching engine.

Control numbers, SE segment counts and GE/IEA counts are never tolerated: a mismatch is the
sign of a truncated or spliced file, which would otherwise be applied half.
"""

import re
from dataclasses import dataclass
from dataclasses import field

from ..errors import DataQualityIssue
from ..errors import ParseError

ISA_LENGTH = 106
_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = " \t\r\n"
_TAG_RE = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
# Offsets of the 16 element separators of a fixed-width ISA.
_ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)

SUPPORTED_SETS = {
    "850": "purchase_order",
    # change / cancellation: the purchase_order processor applies both purposes
    "860": "purchase_order",
    "855": "po_ack",
    "856": "ship_notice",
    "810": "invoice",
    "820": "payment",
    "832": "contract_price",  # price/sales catalog: one message per price (formats.x12.catalog)
    "845": "contract_price",  # price authorization acknowledgment/status (GPO contracts)
    "997": "functional_ack",
    "999": "functional_ack",
}

# TA105 interchange note codes this reader can find (X12 TA1, 004010 and 005010).
TA1_CONTROL_NUMBER_MISMATCH = "001"
TA1_INVALID_DATE = "014"
TA1_INVALID_VERSION = "017"
TA1_INVALID_CONTROL_NUMBER = "018"
TA1_INVALID_ACK_REQUESTED = "019"
TA1_INVALID_TEST_INDICATOR = "020"
TA1_INVALID_GROUP_COUNT = "021"
TA1_INVALID_CONTROL_STRUCTURE = "022"
TA1_PREMATURE_END = "023"
TA1_INVALID_CONTENT = "024"


# ---------------------------------------------------------------------------------------
# Data structures
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Separators:
    """Delimiters of one interchange."""

    element: str
    component: str
    segment: str
    repetition: str = None


@dataclass
class Segment:
    """One segment: ``elements[0]`` is the tag, ``segment[1]`` is its first element."""

    elements: list
    position: int  # 1-based position in the interchange (ISA = 1)
    raw: str

    @property
    def tag(self):
        return self.elements[0]

    def __getitem__(self, index):
        """Element ``index`` (1-based, X12 numbering), ``""`` when absent."""
        return self.elements[index].strip() if index < len(self.elements) else ""

    def __len__(self):
        return len(self.elements) - 1

    def where(self):
        return f"segment {self.position} ({self.tag})"


@dataclass
class Transaction:
    """A transaction set (ST..SE) with the envelope problems found for it."""

    set_id: str
    control_number: str
    segments: list  # ST..SE inclusive (SE absent when missing)
    group: "FunctionalGroup" = field(default=None, repr=False)
    interchange: "Interchange" = field(default=None, repr=False)
    errors: list = field(default_factory=list)  # ParseError
    ak5_code: str = None  # AK502/IK502 syntax error code when rejected at envelope level

    @property
    def body(self):
        """Segments between ST and SE."""
        end = -1 if self.segments and self.segments[-1].tag == "SE" else None
        return self.segments[1:end]

    @property
    def version(self):
        st3 = self.segments[0][3] if self.segments else ""
        return st3 or (self.group.version if self.group else "")


@dataclass
class FunctionalGroup:
    gs: Segment
    ge: Segment = None
    transactions: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    ak905_code: str = None  # AK905 syntax error code of the first group-level error

    def envelope_error(self, error, ak905_code):
        """Record a group-level error and the AK905 code its 997/999 AK9 names."""
        self.errors.append(error)
        self.ak905_code = self.ak905_code or ak905_code

    @property
    def functional_id(self):
        return self.gs[1]

    @property
    def control_number(self):
        return self.gs[6]

    @property
    def version(self):
        return self.gs[8]


@dataclass
class Interchange:
    """A parsed ISA..IEA interchange."""

    separators: Separators
    isa: Segment
    isa_raw: str
    iea: Segment = None
    groups: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # interchange-level ParseError
    issues: list = field(default_factory=list)  # DataQualityIssue
    # TA105 note code of the first interchange-level error (None: the envelope is sound)
    ta1_code: str = None
    encoding: str = "utf-8"  # how the payload's bytes were read (split parts keep it)

    @property
    def control_number(self):
        return self.isa[13]

    @property
    def version(self):
        """ISA12, e.g. ``00401`` or ``00501``."""
        return self.isa[12]

    @property
    def sender(self):
        return self.isa[5], self.isa[6]

    @property
    def receiver(self):
        return self.isa[7], self.isa[8]

    @property
    def transactions(self):
        return [tx for group in self.groups for tx in group.transactions]

    def envelope_error(self, error, ta1_code):
        """Record an interchange-level error and the TA105 code a TA1 answers it with."""
        self.errors.append(error)
        self.ta1_code = self.ta1_code or ta1_code

    def all_errors(self):
        """Every envelope error, interchange first, then groups, then transactions."""
        errors = list(self.errors)
        for group in self.groups:
            errors += group.errors
            for tx in group.transactions:
                errors += tx.errors
        return errors


@dataclass
class SplitTransaction:
    """One transaction set cut out of an interchange, re-wrapped so it stands alone."""

    set_id: str
    control_number: str
    group_control_number: str
    interchange_control_number: str
    doc_type: str
    payload: bytes


# ---------------------------------------------------------------------------------------
# Tokenizer and envelope
# ---------------------------------------------------------------------------------------


def _decode(payload):
    """``(text, encoding)``: UTF-8, else Latin-1 (a BOM and leading whitespace dropped)."""
    encoding = "utf-8"
    if isinstance(payload, str):
        text = payload
    else:
        if payload.startswith(_UTF8_BOM):
            payload = payload[len(_UTF8_BOM) :]
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            # X12 basic/extended character sets are ASCII subsets; a Latin-1 byte in a
            # name must not make the whole interchange unreadable.
            text = payload.decode("latin-1")
            encoding = "latin-1"
    return text.lstrip("\ufeff" + _WHITESPACE), encoding


def detect_separators(text):
    """Read the separators from the ISA segment at the start of ``text``.

    :returns: ``(Separators, isa_length, issues)``.
    :raises ParseError: ``x12_isa`` (missing/truncated ISA) or ``x12_separators``.
    """
    issues = []
    if not text.startswith("ISA"):
        raise ParseError("x12_isa", "an interchange must start with an ISA segment", "byte 0")
    if len(text) < 4:
        raise ParseError("x12_isa", "truncated ISA segment", "ISA")
    element = text[3]
    if element.isalnum() or element in _WHITESPACE:
        raise ParseError("x12_separators", f"invalid element separator {element!r}", "ISA")
    fixed = len(text) >= ISA_LENGTH and all(
        text[offset] == element for offset in _ISA_SEPARATOR_OFFSETS
    )
    if fixed:
        component = text[104]
        segment = text[105]
        isa_length = ISA_LENGTH
    else:
        # Tolerated: an ISA whose fields are not padded to their fixed widths.  The 16th
        # separator is followed by ISA16 (component separator) and the terminator.
        index = 0
        for _count in range(16):
            index = text.find(element, index + 1)
            if index < 0:
                raise ParseError("x12_isa", "truncated ISA segment: fewer than 16 elements", "ISA")
        if index + 2 >= len(text):
            raise ParseError("x12_isa", "truncated ISA segment: no terminator", "ISA")
        component = text[index + 1]
        segment = text[index + 2]
        isa_length = index + 3
        issues.append(
            DataQualityIssue(
                "x12_isa_width",
                f"ISA segment is {isa_length} characters, not the fixed {ISA_LENGTH}",
                "ISA",
            )
        )
    if segment == "\r":
        segment = "\n" if text[isa_length : isa_length + 1] == "\n" else "\r"
        isa_length += segment == "\n"
    for name, char in (("component", component), ("segment", segment)):
        if char.isalnum() or char == element or char == " ":
            raise ParseError("x12_separators", f"invalid {name} separator {char!r}", "ISA16")
    if component == segment:
        raise ParseError("x12_separators", "component and segment separators are the same", "ISA16")
    isa_fields = text[:isa_length].split(element)
    repetition = None
    version = isa_fields[12].strip() if len(isa_fields) > 12 else ""
    if version >= "00402" and len(isa_fields) > 11:
        rep = isa_fields[11]
        if len(rep) == 1 and not rep.isalnum() and rep not in (element, component, segment):
            repetition = rep
    return Separators(element, component, segment, repetition), isa_length, issues


def tokenize(text, separators):
    """Split an interchange into :class:`Segment` objects (whitespace around ignored)."""
    segments = []
    for chunk in text.split(separators.segment):
        raw = chunk.strip(_WHITESPACE)
        if not raw:
            continue
        elements = raw.split(separators.element)
        segments.append(Segment(elements, len(segments) + 1, raw))
    return segments


def _isa_problems(isa):
    """``[(TA105 code, problem)]`` of an ISA segment."""
    problems = []
    if len(isa) != 16:
        problems.append(
            (TA1_INVALID_CONTROL_STRUCTURE, f"ISA has {len(isa)} elements, expected 16")
        )
    if not re.fullmatch(r"\d{9}", isa[13]):
        problems.append((TA1_INVALID_CONTROL_NUMBER, "ISA13 control number must be 9 digits"))
    if not re.fullmatch(r"\d{5}", isa[12]):
        problems.append((TA1_INVALID_VERSION, "ISA12 version must be 5 digits"))
    if not re.fullmatch(r"\d{6}", isa[9]):
        problems.append((TA1_INVALID_DATE, "ISA09 date must be YYMMDD"))
    if len(isa) >= 15 and isa[14] not in ("0", "1"):
        problems.append(
            (TA1_INVALID_ACK_REQUESTED, "ISA14 acknowledgment requested must be 0 or 1")
        )
    if len(isa) >= 15 and isa[15] not in ("P", "T", "I"):
        problems.append((TA1_INVALID_TEST_INDICATOR, "ISA15 usage indicator must be P, T or I"))
    return problems


def read_interchange(payload, *, strict=True):
    """Parse and validate an X12 interchange.

    :param payload: bytes (or text) holding exactly one ISA..IEA interchange.
    :param strict: raise on the first envelope error (default).  With ``False`` the
        errors stay on the interchange / groups / transactions, which is what
        :func:`functional_ack` needs to reject only the bad transaction sets.
    :raises ParseError: always for an unreadable ISA or separators; with ``strict`` also
        for ``x12_envelope``, ``x12_control_number``, ``x12_count``, ``x12_segment``.
    """
    text, encoding = _decode(payload)
    if not text:
        raise ParseError("x12_isa", "empty payload", "byte 0")
    separators, _isa_length, issues = detect_separators(text)
    segments = tokenize(text, separators)
    isa = segments[0]
    problems = _isa_problems(isa)
    if problems and (strict or len(isa) < 13):
        # (without its control number the interchange cannot even be answered by a TA1)
        raise ParseError("x12_isa", "; ".join(problem for _code, problem in problems), "ISA")
    interchange = Interchange(
        separators=separators,
        isa=isa,
        isa_raw=isa.raw,
        encoding=encoding,
        issues=issues,
    )
    for ta1_code, problem in problems:
        interchange.envelope_error(ParseError("x12_isa", problem, "ISA"), ta1_code)
    group = None
    tx = None
    group_count = 0
    for seg in segments[1:]:
        tag = seg.tag
        if not _TAG_RE.match(tag):
            err = ParseError("x12_segment", f"invalid segment tag {tag[:10]!r}", seg.where())
            if tx:
                tx.errors.append(err)
            else:
                interchange.envelope_error(err, TA1_INVALID_CONTENT)
            if tx:
                tx.ak5_code = tx.ak5_code or "5"
                tx.segments.append(seg)
            continue
        if interchange.iea is not None:
            interchange.envelope_error(
                ParseError("x12_envelope", "data after IEA", seg.where()),
                TA1_INVALID_CONTROL_STRUCTURE,
            )
            break
        if tag == "GS":
            if tx is not None:
                _close_missing_se(tx, seg)
                tx = None
            if group is not None:
                group.envelope_error(
                    ParseError("x12_envelope", "GS without GE for the previous group", seg.where()),
                    "3",
                )
            group = FunctionalGroup(gs=seg)
            interchange.groups.append(group)
            group_count += 1
        elif tag == "ST":
            if group is None:
                interchange.envelope_error(
                    ParseError("x12_envelope", "ST outside a functional group", seg.where()),
                    TA1_INVALID_CONTENT,
                )
                group = FunctionalGroup(gs=seg)
                interchange.groups.append(group)
            if tx is not None:
                _close_missing_se(tx, seg)
            tx = Transaction(
                set_id=seg[1],
                control_number=seg[2],
                segments=[seg],
                group=group,
                interchange=interchange,
            )
            group.transactions.append(tx)
            if not re.fullmatch(r"\d{3}", seg[1]) or not re.fullmatch(r"\d{4,9}", seg[2]):
                tx.errors.append(
                    ParseError(
                        "x12_segment",
                        "ST needs a set id and a 4-9 digit control number",
                        seg.where(),
                    )
                )
                # AK502 6: invalid transaction set identifier, 7: invalid control number
                tx.ak5_code = "6" if not re.fullmatch(r"\d{3}", seg[1]) else "7"
        elif tag == "SE":
            if tx is None:
                err = ParseError("x12_envelope", "SE without ST", seg.where())
                if group:
                    group.errors.append(err)
                else:
                    interchange.envelope_error(err, TA1_INVALID_CONTENT)
                continue
            tx.segments.append(seg)
            _check_se(tx, seg)
            tx = None
        elif tag == "GE":
            if tx is not None:
                _close_missing_se(tx, seg)
                tx = None
            if group is None:
                interchange.envelope_error(
                    ParseError("x12_envelope", "GE without GS", seg.where()), TA1_INVALID_CONTENT
                )
                continue
            group.ge = seg
            _check_ge(group, seg)
            group = None
        elif tag == "IEA":
            if tx is not None:
                _close_missing_se(tx, seg)
                tx = None
            if group is not None:
                group.envelope_error(ParseError("x12_envelope", "GE missing", seg.where()), "3")
                group = None
            interchange.iea = seg
            _check_iea(interchange, seg, group_count)
        elif tag == "ISA":
            interchange.envelope_error(
                ParseError("x12_envelope", "nested ISA: one interchange per payload", seg.where()),
                TA1_INVALID_CONTROL_STRUCTURE,
            )
            break
        elif tx is None:
            err = ParseError("x12_envelope", f"{tag} outside a transaction set", seg.where())
            if group:
                group.errors.append(err)
            else:
                interchange.envelope_error(err, TA1_INVALID_CONTENT)
        else:
            tx.segments.append(seg)
    if tx is not None:
        _close_missing_se(tx, None)
    if group is not None and group.ge is None:
        group.envelope_error(ParseError("x12_envelope", "GE missing (truncated?)", "end"), "3")
    if interchange.iea is None:
        interchange.envelope_error(
            ParseError("x12_envelope", "IEA missing (truncated?)", "end"), TA1_PREMATURE_END
        )
    if not interchange.groups:
        interchange.envelope_error(
            ParseError("x12_envelope", "no functional group", "ISA"), TA1_INVALID_CONTENT
        )
    if strict:
        errors = interchange.all_errors()
        if errors:
            first = errors[0]
            raise ParseError(
                first.code,
                first.message,
                first.path,
                details=[e.to_dict() for e in errors[1:]],
            )
    return interchange


def _close_missing_se(tx, at_segment):
    where = at_segment.where() if at_segment else "end"
    tx.errors.append(ParseError("x12_envelope", f"SE missing for ST {tx.control_number}", where))
    tx.ak5_code = "2"  # AK502/IK502 2: transaction set trailer missing


def _check_se(tx, se):
    if se[2] != tx.control_number:
        tx.errors.append(
            ParseError(
                "x12_control_number",
                f"SE02 {se[2]!r} does not match ST02 {tx.control_number!r}",
                se.where(),
            )
        )
        tx.ak5_code = tx.ak5_code or "3"
    count = len(tx.segments)
    if se[1] != str(count) and int_or_none(se[1]) != count:
        tx.errors.append(
            ParseError(
                "x12_count",
                f"SE01 states {se[1]!r} segments, the set has {count}",
                se.where(),
            )
        )
        tx.ak5_code = tx.ak5_code or "4"


def _check_ge(group, ge):
    if ge[2] != group.control_number:
        group.envelope_error(
            ParseError(
                "x12_control_number",
                f"GE02 {ge[2]!r} does not match GS06 {group.control_number!r}",
                ge.where(),
            ),
            "4",
        )
    if int_or_none(ge[1]) != len(group.transactions):
        group.envelope_error(
            ParseError(
                "x12_count",
                f"GE01 states {ge[1]!r} transaction sets, the group has {len(group.transactions)}",
                ge.where(),
            ),
            "5",
        )


def _check_iea(interchange, iea, group_count):
    if iea[2] != interchange.control_number:
        interchange.envelope_error(
            ParseError(
                "x12_control_number",
                f"IEA02 {iea[2]!r} does not match ISA13 {interchange.control_number!r}",
                iea.where(),
            ),
            TA1_CONTROL_NUMBER_MISMATCH,
        )
    if int_or_none(iea[1]) != group_count:
        interchange.envelope_error(
            ParseError(
                "x12_count",
                f"IEA01 states {iea[1]!r} groups, the interchange has {group_count}",
                iea.where(),
            ),
            TA1_INVALID_GROUP_COUNT,
        )


def int_or_none(text):
    """An element as an int, None when it is not a number."""
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------


def split_interchange(payload):
    """Cut a valid interchange into one self-contained interchange per transaction set.

    Each payload keeps the original ISA and GS (so sender, receiver, version and
    separators are preserved) and gets a GE/IEA counting one set: it can be stored, hashed
    and parsed alone, and a replay of one set does not replay its neighbours.  Segments
    are the original text, written back in the encoding they were read in.

    :returns: list of :class:`SplitTransaction`.
    :raises ParseError: as :func:`read_interchange` in strict mode.
    """
    interchange = read_interchange(payload)
    sep = interchange.separators
    term = sep.segment
    results = []
    for group in interchange.groups:
        for tx in group.transactions:
            parts = [interchange.isa_raw, group.gs.raw]
            parts += [seg.raw for seg in tx.segments]
            parts.append(sep.element.join(["GE", "1", group.control_number]))
            parts.append(sep.element.join(["IEA", "1", interchange.control_number]))
            text = term.join(parts) + term
            results.append(
                SplitTransaction(
                    set_id=tx.set_id,
                    control_number=tx.control_number,
                    group_control_number=group.control_number,
                    interchange_control_number=interchange.control_number,
                    doc_type=SUPPORTED_SETS.get(tx.set_id),
                    payload=text.encode(interchange.encoding),
                )
            )
    return results
