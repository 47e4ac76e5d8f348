"""CAP 1.2 and Atom on real alerts: ČHMÚ, US IPAWS and NWS, the spec's examples, and hostile documents."""

import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hlasatel_composer.domain.atom import ATOM_NAMESPACE, AtomEntry, atom_feed
from hlasatel_composer.domain.cap import (
    MAX_CAP_BYTES,
    NAMESPACE,
    CapAlert,
    CapArea,
    CapCircle,
    CapInfo,
    CapReference,
    CapRejected,
    parse_cap,
    render_cap,
)

VALID = (
    "australia.cap",
    "canada.cap",
    "chmi-bourky.xml",
    "chmi-naledi-a-vitr.xml",
    "chmi-vitr-mraz_ve_vegetacni_sezone.xml",
    "chmi-vitr-silny_vitr-snih.xml",
    "chmi-vitr.xml",
    "chmi-vyhled_nebezpecnych_jevu-vysoke_teploty.xml",
    "earthquake-iso8859-1.cap",
    "google-PAAQ-4-mg5a94.xml",
    "ipaws-5e6dd964023f1930ef638846.xml",
    "ipaws-5e6dd9de023f1930ef6548d9.xml",
    "ipaws-5e6ddbad023f1930ef6c1a5a.xml",
    "ipaws-5e7e0fc5023f1930efcf3deb.xml",
    "ipaws-5ea321f39fc226a7b44b6874.xml",
    "tests_resources_NOAA_MultiplePolygons.txt",
    "tests_resources_no_info_tag.cap",
    "v1dot2_appendix_adot1.xml",
    "v1dot2_appendix_adot2.xml",
    "v1dot2_appendix_adot3.xml",
    "v1dot2_appendix_adot4.xml",
)
# file -> what the reason must say
INVALID = {
    "earthquake.cap": "the root is {urn:oasis:names:tc:emergency:cap:1.1}alert",
    "no_optional_fields.cap": "cap:1.1",
    "nws-5c2cf27b1f56885d61654dc47fa411d5.xml": "cap:1.1",
    "weather.cap": "cap:1.1",
    "invalid.cap": "line 9: Element 'info': This element is not expected. "
    "Expected is one of ( source, scope )",
    "xee.cap": "DOCTYPE",
}
CET = timezone(timedelta(hours=1))
RFC_3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")


@pytest.fixture(scope="module")
def cap_dir(shared_data: Path) -> Path:
    return shared_data / "cap"


def parsed(cap_dir: Path, name: str) -> CapAlert:
    return parse_cap((cap_dir / name).read_bytes())


def edited(cap_dir: Path, name: str, old: str, new: str) -> bytes:
    """A real file with one change, which must have taken."""
    text = (cap_dir / name).read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1).encode()


def billion_laughs(levels: int = 10) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, levels)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE alert [\n' + "\n".join(entities) + "\n]>\n"
        f'<alert xmlns="{NAMESPACE}"><identifier>&lol{levels - 1};</identifier></alert>'
    ).encode()


class TestTheData:
    def test_every_file_is_either_accepted_or_rejected_here(self, cap_dir: Path) -> None:
        files = sorted(p.name for p in cap_dir.iterdir() if p.suffix != ".xsd")
        assert files == sorted([*VALID, *INVALID])


class TestCapParsing:
    @pytest.mark.parametrize("name", VALID)
    def test_a_valid_file_maps_every_info_area_and_reference(self, cap_dir: Path, name: str) -> None:
        alert = parsed(cap_dir, name)
        raw = etree.parse(str(cap_dir / name)).getroot()
        ns = {"cap": NAMESPACE}
        assert alert.identifier == raw.findtext("cap:identifier", namespaces=ns)
        assert alert.sent.utcoffset() is not None
        assert len(alert.infos) == len(raw.findall("cap:info", namespaces=ns))
        assert sum(len(i.areas) for i in alert.infos) == len(raw.findall("cap:info/cap:area", namespaces=ns))
        assert len(alert.references) == len((raw.findtext("cap:references", namespaces=ns) or "").split())

    def test_a_chmi_update_in_czech_and_english_for_the_liberec_orp(self, cap_dir: Path) -> None:
        alert = parsed(cap_dir, "chmi-naledi-a-vitr.xml")
        assert (alert.sender, alert.msg_type, alert.status, alert.scope) == (
            "chmi@chmi.cz",
            "Update",
            "Actual",
            "Public",
        )
        assert alert.sent == datetime(2022, 1, 17, 17, 5, 44, tzinfo=CET)
        assert alert.references == (
            CapReference(
                sender="chmi@chmi.cz",
                identifier="2.49.0.0.203.0.CZ.220117093828.XOCZ50_OKPR_000019",
                sent=datetime(2022, 1, 17, 10, 38, 28, tzinfo=CET),
            ),
        )
        assert {info.language for info in alert.infos} == {"cs", "en-GB"}
        liberec = [
            info
            for info in alert.infos
            if info.event == "Náledí" and any(("CISORP", "5105") in area.geocodes for area in info.areas)
        ]
        assert len(liberec) == 1
        ice = liberec[0]
        assert (ice.severity, ice.certainty, ice.urgency, ice.categories) == (
            "Moderate",
            "Likely",
            "Immediate",
            ("Met",),
        )
        assert ice.onset == datetime(2022, 1, 17, 17, 4, 17, tzinfo=CET)
        assert ice.expires == datetime(2022, 1, 18, 8, 0, tzinfo=CET)
        assert ice.onset.utcoffset() == ice.expires.utcoffset() == timedelta(hours=1)
        assert ice.description is not None and "vytvářet náledí" in ice.description
        assert ice.instruction is not None and ice.instruction.startswith("Nebezpečí úrazů")

    def test_empty_elements_are_absent_values(self, cap_dir: Path) -> None:
        alert = parsed(cap_dir, "chmi-naledi-a-vitr.xml")
        assert alert.incidents is None
        assert any(info.description is None and info.instruction is None for info in alert.infos)

    def test_a_cancel_without_info_keeps_its_reference(self, cap_dir: Path) -> None:
        alert = parsed(cap_dir, "tests_resources_no_info_tag.cap")
        assert (alert.msg_type, alert.infos) == ("Cancel", ())
        assert alert.references == (
            CapReference(
                sender="AtHoc",
                identifier="1017033100951096-517189320160225203219800",
                sent=datetime(2016, 2, 25, 12, 32, 19, tzinfo=timezone(timedelta(hours=-8))),
            ),
        )

    def test_references_to_three_earlier_messages(self, cap_dir: Path) -> None:
        alert = parsed(cap_dir, "google-PAAQ-4-mg5a94.xml")
        assert [r.identifier for r in alert.references] == ["PAAQ-1-mg5a94", "PAAQ-2-mg5a94", "PAAQ-3-mg5a94"]
        assert alert.references[0].sent == datetime(2013, 1, 5, 9, 1, 16, tzinfo=UTC)

    def test_a_circle(self, cap_dir: Path) -> None:
        area = parsed(cap_dir, "v1dot2_appendix_adot3.xml").infos[0].areas[0]
        assert area.circles == (CapCircle(latitude=32.9525, longitude=-115.5527, radius_km=0.0),)
        assert (area.polygons, area.geocodes) == ((), ())

    def test_a_document_with_a_cap_prefix(self, cap_dir: Path) -> None:
        alert = parsed(cap_dir, "australia.cap")
        info = alert.infos[0]
        assert alert.identifier == "tag:www.rfs.nsw.gov.au2011-10-06:40184"
        assert (info.language, info.categories, info.response_types) == (
            "en-AU",
            ("Fire", "Met"),
            ("Evacuate",),
        )
        assert info.event_codes[1] == ("non-standard secondary event code", "structure_fire")
        assert ("AllocatedResources", "") in info.parameters
        assert info.areas[0].circles == (CapCircle(-35.3888, 147.0598, 25.0),)
        assert info.areas[0].geocodes == (("http://www.iso.org/iso/country_codes.html", "AU-NSW"),)

    def test_several_polygons_of_float_points(self, cap_dir: Path) -> None:
        info = parsed(cap_dir, "tests_resources_NOAA_MultiplePolygons.txt").infos[0]
        acadia = next(area for area in info.areas if area.description == "Acadia")
        assert [len(ring) for ring in acadia.polygons] == [4, 69]
        assert acadia.polygons[0][:2] == ((30.094, -92.619), (30.091, -92.625))
        assert all(ring[0] == ring[-1] for ring in acadia.polygons)

    def test_an_iso_8859_1_document_keeps_its_accents(self, cap_dir: Path) -> None:
        info = parsed(cap_dir, "earthquake-iso8859-1.cap").infos[0]
        assert info.headline == "EQ 4.6 Usulután, Usulután, El Salvador - PRELIMINARY REPORT"

    def test_the_language_defaults_to_en_us(self, cap_dir: Path) -> None:
        assert parsed(cap_dir, "v1dot2_appendix_adot1.xml").infos[0].language == "en-US"
        assert [i.language for i in parsed(cap_dir, "canada.cap").infos] == ["en-CA", "fr-CA"]


class TestCapRejection:
    @pytest.mark.parametrize("name", sorted(INVALID))
    def test_an_invalid_file_is_rejected_naming_the_problem(self, cap_dir: Path, name: str) -> None:
        with pytest.raises(CapRejected, match=re.escape(INVALID[name])):
            parsed(cap_dir, name)

    def test_cap_1_1_is_named(self, cap_dir: Path) -> None:
        with pytest.raises(CapRejected, match=r"^not CAP 1\.2: the root is .*cap:1\.1\}alert$"):
            parsed(cap_dir, "weather.cap")

    def test_billion_laughs_is_refused_at_once(self) -> None:
        started = time.perf_counter()
        with pytest.raises(CapRejected, match="DOCTYPE is not accepted"):
            parse_cap(billion_laughs())
        assert time.perf_counter() - started < 0.5

    def test_a_doctype_after_a_comment_is_refused(self) -> None:
        document = billion_laughs().replace(b"<!DOCTYPE", b"<!-- <a> --><!DOCTYPE", 1)
        with pytest.raises(CapRejected, match="DOCTYPE is not accepted"):
            parse_cap(document)

    def test_a_utf16_doctype_is_refused(self, cap_dir: Path) -> None:
        text = (cap_dir / "v1dot2_appendix_adot1.xml").read_text(encoding="utf-8")
        text = text.replace('encoding = "UTF-8"?>', 'encoding="UTF-16"?><!DOCTYPE alert>', 1)
        with pytest.raises(CapRejected, match="DOCTYPE is not accepted"):
            parse_cap(text.encode("utf-16"))

    def test_a_document_over_the_limit(self, cap_dir: Path) -> None:
        with pytest.raises(CapRejected, match=r"^the document is 1796 bytes; at most 1000 are accepted$"):
            parse_cap((cap_dir / "v1dot2_appendix_adot1.xml").read_bytes(), max_bytes=1000)
        with pytest.raises(CapRejected, match=f"at most {MAX_CAP_BYTES} are accepted"):
            parse_cap(b"<alert/>" + b" " * MAX_CAP_BYTES)

    def test_xml_that_is_not_well_formed_names_the_line(self) -> None:
        with pytest.raises(
            CapRejected, match=r"^not well-formed XML: line 2, column \d+: Opening and ending tag mismatch"
        ):
            parse_cap(f'<alert xmlns="{NAMESPACE}">\n<identifier>1</sender></alert>'.encode())

    def test_another_kind_of_document(self) -> None:
        with pytest.raises(CapRejected, match=r"the root is \{http://www.w3.org/2005/Atom\}feed"):
            parse_cap(b'<feed xmlns="http://www.w3.org/2005/Atom"/>')

    def test_a_schema_error_does_not_echo_the_value(self, cap_dir: Path) -> None:
        document = edited(cap_dir, "v1dot2_appendix_adot1.xml", "<status>Actual", "<status>+420777123456")
        with pytest.raises(CapRejected) as rejected:
            parse_cap(document)
        assert str(rejected.value).startswith(
            "CAP 1.2 schema: line 6: Element 'status': [facet 'enumeration']"
        )
        assert "+420777123456" not in str(rejected.value)

    @pytest.mark.parametrize(
        ("old", "new", "reason"),
        [
            (
                "38.62,-119.89 38.47,-120.14",
                "38.62,-119.89",
                "info[1]/area[1]/polygon[1] is not a closed ring of at least 4",
            ),
            (
                "38.34,-119.95",
                "38.34;-119.95",
                "info[1]/area[1]/polygon[1] holds something other than decimal",
            ),
            ("38.34,-119.95", "nan,inf", "info[1]/area[1]/polygon[1] holds something other than decimal"),
            ("38.34,-119.95", "98.34,-119.95", "polygon[1] has a point outside WGS 84"),
            (
                "2003-06-17T16:00:00-07:00",
                "2003-06-17T24:00:00-07:00",
                "info[1]/expires is not a date and time",
            ),
            ("<scope>Public</scope>", "<scope>Public</scope><references>a,b</references>", "references:"),
        ],
    )
    def test_what_the_schema_lets_through_but_cannot_be_read(
        self, cap_dir: Path, old: str, new: str, reason: str
    ) -> None:
        with pytest.raises(CapRejected, match=re.escape(reason)):
            parse_cap(edited(cap_dir, "v1dot2_appendix_adot2.xml", old, new))

    @pytest.mark.parametrize("circle", ["32.9525,-115.5527", "32.9525,-115.5527 -1", "32.9525 -115.5527 1"])
    def test_a_circle_that_cannot_be_read(self, cap_dir: Path, circle: str) -> None:
        document = edited(cap_dir, "v1dot2_appendix_adot3.xml", "32.9525,-115.5527 0", circle)
        with pytest.raises(CapRejected, match=re.escape("info[1]/area[1]/circle[1]")):
            parse_cap(document)


def liberec_alert(sent: datetime) -> CapAlert:
    area = CapArea(
        description="Liberec, Ruprechtice",
        polygons=(((50.78, 15.05), (50.79, 15.07), (50.77, 15.08), (50.78, 15.05)),),
        circles=(CapCircle(50.7671, 15.0562, 0.000_01),),
        geocodes=(("CISORP", "5105"),),
    )
    info = CapInfo(
        language="cs",
        categories=("Infra",),
        event="Odstávka vody <&> \"'",
        urgency="Expected",
        severity="Minor",
        certainty="Likely",
        onset=sent + timedelta(hours=2),
        description="",
        areas=(area,),
    )
    return CapAlert(
        identifier="urn:uuid:0f6c3b9e",
        sender="hlasatel@liberec.cz",
        sent=sent,
        status="Actual",
        msg_type="Alert",
        scope="Public",
        infos=(info,),
    )


class TestCapRendering:
    @pytest.mark.parametrize("name", VALID)
    def test_parse_render_parse_gives_the_same_alert(self, cap_dir: Path, name: str) -> None:
        alert = parsed(cap_dir, name)
        document = render_cap(alert)
        assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        root = etree.fromstring(document)
        assert (root.tag, root.prefix) == (f"{{{NAMESPACE}}}alert", None)
        assert parse_cap(document) == alert

    def test_times_in_caps_one_form(self) -> None:
        sent = datetime(2024, 5, 1, 6, 30, 15, 123_456, tzinfo=UTC)
        document = render_cap(liberec_alert(sent))
        # CAP 1.2, 3.3.2: UTC is written -00:00
        assert b"<sent>2024-05-01T06:30:15-00:00</sent>" in document
        assert b"<onset>2024-05-01T08:30:15-00:00</onset>" in document
        assert parse_cap(document).sent == sent.replace(microsecond=0)

    def test_an_alert_written_here_reads_back(self) -> None:
        alert = liberec_alert(datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))))
        document = render_cap(alert)
        assert b"<circle>50.7671,15.0562 0.00001</circle>" in document
        assert b"<description>" not in document
        assert parse_cap(document) == replace(alert, infos=(replace(alert.infos[0], description=None),))

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="offset"):
            render_cap(liberec_alert(datetime(2024, 5, 1, 8, 30)))

    def test_an_alert_the_schema_refuses_is_not_written(self) -> None:
        alert = replace(liberec_alert(datetime.now(UTC)), status="Live")
        with pytest.raises(ValueError, match="Element 'status'"):
            render_cap(alert)


def entry(n: int, **changes: Any) -> AtomEntry:
    base = AtomEntry(
        id=f"urn:uuid:00000000-0000-0000-0000-{n:012d}",
        title=f"Výstraha {n}",
        updated=datetime(2024, 5, n, 8, 30, tzinfo=timezone(timedelta(hours=2))),
        summary=f"Odstávka vody {n}",
        link=f"https://hlasatel.liberec.cz/cap/{n}.xml",
    )
    return replace(base, **changes)


def feed(*entries: AtomEntry, lang: str | None = None) -> Any:
    document = atom_feed(
        id="urn:uuid:feed",
        title="Hlasatel Liberec",
        self_link="https://hlasatel.liberec.cz/alerts.atom",
        updated=datetime(2024, 5, 3, 6, 0, 0, 999, tzinfo=UTC),
        author="Statutární město Liberec",
        entries=entries,
        lang=lang,
    )
    return etree.fromstring(document)


A = {"a": ATOM_NAMESPACE}


class TestAtomFeed:
    def test_a_feed_of_entries_in_order(self) -> None:
        root = feed(entry(2), entry(1, category="water", published=datetime(2024, 4, 30, 22, 0, tzinfo=UTC)))
        assert root.tag == f"{{{ATOM_NAMESPACE}}}feed"
        assert root.findtext("a:id", namespaces=A) == "urn:uuid:feed"
        assert root.findtext("a:author/a:name", namespaces=A) == "Statutární město Liberec"
        assert root.find("a:link[@rel='self']", namespaces=A).get("href").endswith("/alerts.atom")
        entries = root.findall("a:entry", namespaces=A)
        assert [e.findtext("a:title", namespaces=A) for e in entries] == ["Výstraha 2", "Výstraha 1"]
        assert [e.findtext("a:id", namespaces=A)[-1] for e in entries] == ["2", "1"]
        links = [e.find("a:link", namespaces=A).attrib for e in entries]
        assert [(link["rel"], link["type"], link["href"][-5:]) for link in links] == [
            ("alternate", "application/cap+xml", "2.xml"),
            ("alternate", "application/cap+xml", "1.xml"),
        ]
        assert entries[1].find("a:category", namespaces=A).get("term") == "water"
        assert entries[0].find("a:category", namespaces=A) is None

    def test_timestamps_are_rfc_3339(self) -> None:
        root = feed(entry(1, published=datetime(2024, 4, 30, 22, 0, tzinfo=UTC)))
        stamps = [e.text for e in root.iter(f"{{{ATOM_NAMESPACE}}}updated", f"{{{ATOM_NAMESPACE}}}published")]
        assert stamps == ["2024-05-03T06:00:00Z", "2024-05-01T08:30:00+02:00", "2024-04-30T22:00:00Z"]
        assert all(RFC_3339.fullmatch(stamp) for stamp in stamps)

    def test_text_is_escaped_and_the_language_given(self) -> None:
        root = feed(entry(1, title='<b>Voda</b> & "plyn"'), lang="cs")
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "cs"
        assert root.findtext("a:entry/a:title", namespaces=A) == '<b>Voda</b> & "plyn"'
        assert len(root.find("a:entry/a:title", namespaces=A)) == 0

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="offset"):
            feed(entry(1, updated=datetime(2024, 5, 1, 8, 30)))
