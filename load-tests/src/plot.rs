//! `latency.svg`: percentile curves of the engine's checks beside the baselines (plotters).

use std::path::Path;

use plotters::prelude::*;

/// One curve: a label and (percentile, µs) points.
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// "Nines" of a percentile: 90 → 1, 99 → 2, 99.9 → 3 (100 is drawn at 5).
fn nines(p: f64) -> f64 {
    if p >= 100.0 {
        5.0
    } else {
        (-(1.0 - p / 100.0).log10()).min(5.0)
    }
}

pub fn write(path: &Path, title: &str, curves: &[Curve]) -> anyhow::Result<()> {
    let max_us = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .fold(10.0, f64::max);
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..5f64, (1f64..max_us * 1.5).log_scale())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("percentile (0 = p0, 1 = p90, 2 = p99, 3 = p99.9, 5 = max)")
        .y_desc("latency, µs (log)")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let palette = [
        RED,
        BLUE,
        GREEN,
        MAGENTA,
        CYAN,
        BLACK,
        RGBColor(230, 140, 0),
        RGBColor(120, 60, 160),
    ];
    for (i, c) in curves.iter().enumerate() {
        let color = palette[i % palette.len()];
        let pts: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|(p, us)| (nines(*p), us.max(1.0)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(c.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
