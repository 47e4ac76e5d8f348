"""The fakes' ledgers as tests read them while the fakes write."""

from pathlib import Path

from hlasatel_devstack.fakes.ledger import Ledger, read_ledger


def test_a_line_still_being_written_is_left_for_the_next_read(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "email.jsonl")
    ledger.append({"recipient": "a@example.cz"})
    with ledger.path.open("a", encoding="utf-8") as out:
        out.write('{"recipient": "b@example.cz", "text": "a long e-mail, half writ')
    assert [entry["recipient"] for entry in read_ledger(ledger.path)] == ["a@example.cz"]
    with ledger.path.open("a", encoding="utf-8") as out:
        out.write('ten"}\n')
    assert [entry["recipient"] for entry in read_ledger(ledger.path)] == ["a@example.cz", "b@example.cz"]
