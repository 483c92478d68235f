//! The soak's chart: server memory and peers (top), delivery latency (bottom) over time.

use std::path::Path;

use anyhow::{Context as _, anyhow};
use plotters::prelude::*;

use super::FONT;
use crate::load::soak::Sample;

/// Draws `samples` into the PNG file `path`; the font must be set ([`super::use_font`]).
pub fn draw(samples: &[Sample], path: &Path) -> anyhow::Result<()> {
    let root = BitMapBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let (top, bottom) = root.split_vertically(400);
    let end = samples.last().map_or(1.0, |s| s.elapsed_s).max(1.0);

    let rss_max = samples.iter().map(|s| s.server_rss_mib).fold(1.0, f64::max) * 1.15;
    let mut memory = ChartBuilder::on(&top)
        .caption("xws chat soak: server memory (MiB) and peers", (FONT, 22))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..rss_max)
        .map_err(|e| anyhow!("{e}"))?;
    memory
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("RSS MiB")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    memory
        .draw_series(LineSeries::new(
            samples.iter().map(|s| (s.elapsed_s, s.server_rss_mib)),
            &BLUE,
        ))
        .map_err(|e| anyhow!("{e}"))?
        .label("server RSS (MiB)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE));
    let peers_max = samples
        .iter()
        .map(|s| s.connected)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    memory
        .draw_series(LineSeries::new(
            samples
                .iter()
                .map(|s| (s.elapsed_s, s.connected as f64 / peers_max * rss_max * 0.9)),
            &GREEN,
        ))
        .map_err(|e| anyhow!("{e}"))?
        .label(format!("peers connected (scaled, max {peers_max})"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], GREEN));
    memory
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;

    let latency_max = samples.iter().map(|s| s.p99_ms).fold(1.0, f64::max) * 1.2;
    let mut latency = ChartBuilder::on(&bottom)
        .caption("delivery latency (ms)", (FONT, 22))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..latency_max)
        .map_err(|e| anyhow!("{e}"))?;
    latency
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("ms")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (name, color, pick) in [
        ("p50", BLUE, (|s: &Sample| s.p50_ms) as fn(&Sample) -> f64),
        ("p99", RED, |s: &Sample| s.p99_ms),
    ] {
        latency
            .draw_series(LineSeries::new(
                samples
                    .iter()
                    // A window without deliveries has no latency to draw.
                    .filter(|s| s.max_ms > 0.0)
                    .map(|s| (s.elapsed_s, pick(s))),
                &color,
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
    }
    latency
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present()
        .with_context(|| format!("writing {}", path.display()))
}

/// The samples as CSV, one line each.
pub fn csv(samples: &[Sample]) -> String {
    let mut csv =
        String::from("elapsed_s,server_rss_mib,connected,sent,received,p50_ms,p99_ms,max_ms\n");
    for s in samples {
        csv.push_str(&format!(
            "{:.1},{:.1},{},{},{},{:.2},{:.2},{:.2}\n",
            s.elapsed_s,
            s.server_rss_mib,
            s.connected,
            s.sent,
            s.received,
            s.p50_ms,
            s.p99_ms,
            s.max_ms
        ));
    }
    csv
}
