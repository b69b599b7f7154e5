"""Chart geometry: proportional, stacked, safe with zeros, escaped."""

from __future__ import annotations

import re

import pytest

from socialdesk.reports.charts import Segment, scale_for, stack, stacked_columns, stacked_rows


@pytest.mark.parametrize(
    ("values", "scale", "expected"),
    [
        ([3, 1], 10.0, [Segment(0, 0, 30, 3), Segment(1, 30, 10, 1)]),
        ([0, 2, 0, 1], 5.0, [Segment(1, 0, 10, 2), Segment(3, 10, 5, 1)]),
        ([-4, 2], 1.0, [Segment(1, 0, 2, 2)]),
        ([], 1.0, []),
    ],
)
def test_stack(values: list[float], scale: float, expected: list[Segment]) -> None:
    assert stack(values, scale) == expected


@pytest.mark.parametrize(
    ("totals", "length", "expected"),
    [([10, 5], 100, 10.0), ([0, 0], 100, 1.0), ([], 50, 1.0), ([4, -9], 100, 25.0)],
)
def test_scale_fills_the_length_with_the_largest_total(
    totals: list[float], length: float, expected: float
) -> None:
    assert scale_for(totals, length) == expected


def _rect_sizes(svg: str, attribute: str) -> list[float]:
    # Data bars carry a <title> child; legend swatches are self-closing.
    bars = re.findall(r'<rect class="s\d" ([^>/]*)>', svg)
    return [float(re.search(rf'{attribute}="([\d.]+)"', b).group(1)) for b in bars]  # type: ignore[union-attr]


def test_columns_are_proportional_and_stacked() -> None:
    svg = str(
        stacked_columns(
            ["09:00", "10:00"],
            [[2, 2], [8, 0]],
            ["X", "Facebook"],
            title="Posts",
            height=160,
        )
    )
    heights = _rect_sizes(svg, "height")
    assert len(heights) == 3  # the zero draws nothing
    assert heights[0] == heights[1] == pytest.approx(heights[2] / 4, rel=0.01)
    assert 'role="img"' in svg and "<title>Posts</title>" in svg
    assert "10:00: X 8" in svg
    assert "Facebook" in svg  # legend for more than one series


def test_rows_draw_limits_on_the_same_scale() -> None:
    svg = str(stacked_rows(["Ada", "Bo"], [[5], [10]], ["open"], title="Load", limits=[10, None]))
    widths = _rect_sizes(svg, "width")
    assert widths[1] == pytest.approx(2 * widths[0])
    limit_x = float(re.search(r'<line class="limit" x1="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    bar_x = float(re.search(r'<rect class="s0" x="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    assert limit_x == pytest.approx(bar_x + widths[1])
    assert svg.count('class="limit"') == 1


def test_labels_are_escaped_and_described() -> None:
    svg = str(stacked_rows(["<script>"], [[1]], ["a&b"], title='Q "1"'))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "a&amp;b 1" in svg
    assert 'aria-label="Q &#34;1&#34;. &lt;script&gt;: a&amp;b 1"' in svg


def test_mismatched_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="one row of values per label"):
        stacked_columns(["a"], [], ["x"], title="t")
