"""Exclusion list readers and matcher (normalize.exclusion): LEIE and SAM layouts."""

import datetime
import io

import pytest

from ..normalize.exclusion import SOURCE_LEIE
from ..normalize.exclusion import SOURCE_SAM
from ..normalize.exclusion import Candidate
from ..normalize.exclusion import ExclusionFormatError
from ..normalize.exclusion import ExclusionRecord
from ..normalize.exclusion import RowError
from ..normalize.exclusion import match_candidate
from ..normalize.exclusion import name_score
from ..normalize.exclusion import normalize_npi
from ..normalize.exclusion import parse_sam_date
from ..normalize.exclusion import read_exclusions

LEIE_HEADER = (
    "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,"
    "ZIP,EXCLTYPE,EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n"
)
LEIE = LEIE_HEADER + (
    ',,,"ACME MEDICAL SUPPLY, INC.",DME COMPANY,,,1234567893,,"1 MAIN ST",BOSTON,MA,02110,'
    "1128b7,20200115,00000000,00000000,\n"
    "SMITH,JOHN,A,,IND- LIC HC SERV PRO,NURSE,,0000000000,19700101,2 ELM ST,AUSTIN,TX,73301,"
    "1128a1,20190301,00000000,00000000,\n"
    "DOE,JANE,,,PHYSICIAN,,,,19650202,,DALLAS,TX,75001,1128a1,20100101,20150101,00000000,\n"
    "BROKEN,ROW,,,,,\n"
    "BAD,DATE,,,,,,,,,,,,1128a1,2019-13-45,00000000,00000000,\n"
)
SAM_HEADER = (
    '"Classification","Name","Prefix","First","Middle","Last","Suffix","Address 1",'
    '"Address 2","Address 3","Address 4","City","State / Province","Country","Zip Code",'
    '"Open Data Flag","Blank (Deprecated)","Unique Entity ID","Exclusion Program",'
    '"Excluding Agency","CT Code","Exclusion Type","Additional Comments","Active Date",'
    '"Termination Date","Record Status","Cross-Reference","SAM Number","CAGE","NPI",'
    '"Creation_Date"\n'
)
SAM = SAM_HEADER + (
    '"Firm","Global Surgical Devices LLC","","","","","","9 Harbor Rd","","","","Miami","FL",'
    '"USA","33101","","","HWEKRJ3F3N29","Reciprocal","HHS","Z1","Ineligible (Proceedings '
    'Complete)","","05/01/2024","Indefinite","Active","","S4MR3A9B1","","","05/02/2024"\n'
    '"Individual","","Dr.","María","","Núñez","","","","","","Houston","TX","USA","77001","",'
    '"","","Reciprocal","HHS","Z1","Prohibition/Restriction","","01/10/2023","","Active","",'
    '"S4MR3A9B2","","1720000004","01/11/2023"\n'
    '"Firm","Old Vendor Corp","","","","","","","","","","Reno","NV","USA","89501","","","",'
    '"Reciprocal","GSA","","Ineligible","","01/01/2010","01/01/2012","Active","","S4","","",""\n'
)


def records(text, source=None):
    out = list(read_exclusions(io.StringIO(text), source))
    return [r for r in out if isinstance(r, ExclusionRecord)], [
        r for r in out if isinstance(r, RowError)
    ]


def test_leie_rows_read_with_their_dates_and_identifiers():
    recs, errors = records(LEIE)
    assert [r.name for r in recs] == ["ACME MEDICAL SUPPLY, INC.", "SMITH JOHN A", "DOE JANE"]
    acme, smith, doe = recs
    assert acme.source == SOURCE_LEIE and not acme.is_individual
    assert acme.npi == "1234567893" and acme.excluded_on == datetime.date(2020, 1, 15)
    assert acme.active and acme.exclusion_type == "1128b7" and acme.agency == "HHS-OIG"
    assert smith.is_individual and smith.npi is None  # 0000000000 is no NPI
    assert not doe.active and doe.reinstated_on == datetime.date(2015, 1, 1)
    # every unreadable row is reported with its line, none is silently dropped
    assert [e.line for e in errors] == [5, 6]
    assert "columns" in errors[0].reason and "2019-13-45" in errors[1].reason


def test_sam_newer_layout_reads_uei_npi_and_termination():
    recs, errors = records(SAM)
    assert not errors
    firm, person, old = recs
    assert firm.source == SOURCE_SAM and firm.name == "Global Surgical Devices LLC"
    assert firm.entity_id == "HWEKRJ3F3N29" and firm.active and firm.agency == "HHS"
    assert firm.excluded_on == datetime.date(2024, 5, 1) and firm.reinstated_on is None
    assert person.is_individual and person.name == "Núñez María" and person.npi == "1720000004"
    assert not old.active  # terminated in 2012


def test_sam_older_layout_with_duns_column():
    header = (
        '"Classification","Name","Prefix","First","Middle","Last","Suffix","Address 1",'
        '"Address 2","Address 3","Address 4","City","State / Province","Country","Zip Code",'
        '"DUNS","Exclusion Program","Excluding Agency","CT Code","Exclusion Type",'
        '"Additional Comments","Active Date","Termination Date","Record Status",'
        '"Cross-Reference","SAM Number","CAGE","NPI"\n'
    )
    row = (
        '"Individual","","","DAVID","M.","FINK","","","","","","METUCHEN","NJ","USA","08840",'
        '"","Reciprocal","HHS","Z1","Prohibition/Restriction","","2013-07-18","Indefinite",'
        '"","","S4MR3R7N7","",""\n'
        '"Firm","Shady Supplies Inc","","","","","","","","","","X","NJ","USA","1","12-345-6789",'
        '"Reciprocal","HHS","Z1","Ineligible","","07/18/2013","","Active","","S4","",""\n'
    )
    recs, errors = records(header + row, SOURCE_SAM)
    assert not errors
    assert recs[0].name == "FINK DAVID M." and recs[0].excluded_on == datetime.date(2013, 7, 18)
    assert recs[1].entity_id == "123456789"


def test_wrong_file_is_refused_with_the_reason():
    with pytest.raises(ExclusionFormatError, match="neither"):
        list(read_exclusions(io.StringIO("a,b,c\n1,2,3\n")))
    with pytest.raises(ExclusionFormatError, match="expected a SAM file"):
        list(read_exclusions(io.StringIO(LEIE), SOURCE_SAM))
    with pytest.raises(ExclusionFormatError, match="empty"):
        list(read_exclusions(io.StringIO("")))
    with pytest.raises(ExclusionFormatError, match="WAIVERDATE"):
        list(read_exclusions(io.StringIO("LASTNAME,BUSNAME,EXCLTYPE,EXCLDATE\n")))


def test_reader_streams_lines_one_at_a_time():
    consumed = []

    def lines():
        for line in io.StringIO(LEIE_HEADER + LEIE.split("\n", 1)[1] * 1):
            consumed.append(line)
            yield line

    stream = read_exclusions(lines())
    first = next(stream)
    assert isinstance(first, ExclusionRecord)
    assert len(consumed) == 2  # the header and the first row, nothing more


def test_name_normalisation_case_punctuation_suffixes_diacritics():
    assert name_score("Acme Medical Supply, Inc.", "ACME MEDICAL SUPPLY INC") == 100
    assert name_score("acme medical supply l.l.c.", "ACME MEDICAL SUPPLY CORP") == 100
    assert name_score("Maria Nunez", "Núñez María") == 100
    assert name_score("John Smith", "SMITH JOHN A") >= 90  # middle initial on one side
    # one shared word is no match
    assert name_score("Acme Medical", "Global Medical Devices") < 70
    assert name_score("", "ACME") == 0
    # names that differ by a number are different parties
    assert name_score("Vendor 7 Surgical", "VENDOR 59 SURGICAL") <= 60
    assert name_score("Clinic 2 LLC", "CLINIC") <= 60
    assert name_score("3M Company", "3M CO") == 100


def test_npi_normalised_and_blank_npi_is_none():
    assert normalize_npi("1234-567-893") == "1234567893"
    assert normalize_npi("0000000000") is None
    assert normalize_npi("12345") is None
    assert parse_sam_date("Indefinite") is None
    with pytest.raises(ValueError):
        parse_sam_date("31/31/2020")


def test_match_by_identifiers_then_name_and_never_inactive():
    recs, _ = records(LEIE)
    sam, _ = records(SAM)
    everything = recs + sam
    # the NPI matches whatever the name
    hits = match_candidate(Candidate("Renamed Co", npi="1234567893"), everything)
    assert [(h.matched_on, h.record.name) for h in hits] == [("npi", "ACME MEDICAL SUPPLY, INC.")]
    # the UEI (entity id) and a tax id given as entity id
    hits = match_candidate(Candidate("Other", entity_ids=("hwek-rj3f3n29",)), everything)
    assert hits[0].matched_on == "entity_id" and hits[0].record.source == SOURCE_SAM
    # the name, normalised
    hits = match_candidate(Candidate("Acme Medical Supply LLC"), everything)
    assert [h.matched_on for h in hits] == ["name"] and hits[0].score == 100
    # a reinstated (LEIE) or terminated (SAM) exclusion never matches
    assert match_candidate(Candidate("Jane Doe"), everything) == []
    assert match_candidate(Candidate("Old Vendor Corporation"), everything) == []
    # a different vendor does not match
    assert match_candidate(Candidate("Medline Industries"), everything) == []


def test_same_name_other_npi_is_shown_with_the_difference():
    recs, _ = records(SAM)
    hits = match_candidate(Candidate("Maria Nunez", npi="1999999998"), recs)
    assert len(hits) == 1 and hits[0].matched_on == "name"
    assert any("different NPI" in r for r in hits[0].reasons)


def test_threshold_is_respected():
    recs, _ = records(LEIE)
    assert match_candidate(Candidate("Acme Medicl Suply"), recs, threshold=99) == []
    assert match_candidate(Candidate("Acme Medicl Suply"), recs, threshold=85)


def test_record_key_stable_across_versions():
    a, _ = records(LEIE)
    b, _ = records(LEIE.replace("BOSTON", "CAMBRIDGE"))
    assert a[0].key == b[0].key  # an address change is the same exclusion
