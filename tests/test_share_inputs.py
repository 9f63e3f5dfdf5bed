"""A percentage typed where a share (0..1) is expected gets a message that says so and suggests the share."""
import pytest

from lca_battery.errors import StudyError
from lca_battery.study import load_study

BASE = "cell: {chemistry: NMC811, capacity_ah: 60, nominal_voltage_v: 3.65}\nplant: {country: CN}\n"


def _error(tmp_path, text="", overrides=None) -> str:
    f = tmp_path / "s.yaml"
    f.write_text(BASE + text)
    with pytest.raises(StudyError) as info:
        load_study(f, overrides)
    return str(info.value)


def test_percent_in_study_file(tmp_path):
    msg = _error(tmp_path, "recycling:\n  recycled_content:\n    Co: {post_consumer: 20}\n")
    assert "s.yaml" in msg and "'recycling.recycled_content.Co.post_consumer'" in msg
    assert "share from 0 to 1" in msg and "20 looks like a percentage: write 0.2" in msg


@pytest.mark.parametrize("override, field, value, share", [
    ("recycling.eol_collection_rate=50", "recycling.eol_collection_rate", "50", "0.5"),
    ("declaration.usable_capacity_share=95", "declaration.usable_capacity_share", "95", "0.95"),
    ("recycling.recycled_content.Ni.total=12.5", "recycling.recycled_content.Ni.total", "12.5", "0.125"),
])
def test_percent_in_set(tmp_path, override, field, value, share):
    msg = _error(tmp_path, overrides=[override])
    assert f"'{field}'" in msg and "share from 0 to 1" in msg, msg
    assert f"{value} looks like a percentage: write {share}" in msg, msg


@pytest.mark.parametrize("override", ["recycling.eol_collection_rate=150", "recycling.eol_collection_rate=-0.1",
                                      "declaration.usable_capacity_share=0"])
def test_share_out_of_range_without_percent(tmp_path, override):
    msg = _error(tmp_path, overrides=[override])
    assert "share from 0 to 1" in msg and "looks like a percentage" not in msg, msg


def test_non_share_bound_gets_no_share_words(tmp_path):
    msg = _error(tmp_path, overrides=["distribution.truck_km=-5"])
    assert "greater than or equal to 0" in msg and "share from" not in msg, msg


@pytest.mark.parametrize("override, words", [
    ("recycling.scrap_rate=5", "5 looks like a percentage: write 0.05"),
    ("plant.yield=95", "95 looks like a percentage: write 0.95"),
    ("plant.electricity.onsite.pv_rooftop=30", "pv_rooftop: 30 looks like a percentage: write 0.3"),
])
def test_percent_in_share_validators(tmp_path, override, words):
    assert words in _error(tmp_path, overrides=[override])
