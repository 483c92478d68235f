//! The PNG charts. This module draws the benchmark's: each server's key metric relative to
//! the reference server, per scenario. Bars start at 1.0 on a logarithmic axis, so "twice as
//! good" and "half as good" look the same size, up for better and down for worse. [`soak`]
//! draws the soak's figures over time.

pub mod soak;

use std::path::Path;

use anyhow::{Context as _, anyhow};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::peers::Peers;
use crate::results::Results;
use crate::scenario::Scenario;

const FONT: &str = "sans-serif";
const COLORS: [RGBColor; 6] = [
    RGBColor(0xd9, 0x48, 0x1c),
    RGBColor(0x3b, 0x6e, 0xa8),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0x9c, 0x6b, 0xb0),
    RGBColor(0xe0, 0xa1, 0x2b),
    RGBColor(0x76, 0x76, 0x76),
];

/// Where Debian, Arch and Fedora put DejaVu Sans.
const SYSTEM_FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// A TrueType font for the labels: `$XWS_CHART_FONT`, else the npm peers' DejaVu Sans when
/// `peers` are installed, else the system's.
pub fn find_font(peers: Option<&Peers>) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = std::env::var_os("XWS_CHART_FONT") {
        return std::fs::read(&path)
            .with_context(|| format!("reading {}", Path::new(&path).display()));
    }
    if let Some(font) = peers.and_then(|peers| peers.font().ok()) {
        return Ok(font);
    }
    SYSTEM_FONTS
        .iter()
        .find_map(|path| std::fs::read(path).ok())
        .ok_or_else(|| anyhow!("no TrueType font found (set XWS_CHART_FONT)"))
}

/// Makes `font` (a TrueType file) the charts' font. Call once before drawing.
pub fn use_font(font: Vec<u8>) -> anyhow::Result<()> {
    // plotters keeps registered fonts for the whole process, hence 'static.
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font(FONT, FontStyle::Normal, font)
        .map_err(|_| anyhow!("the chart font is not a TrueType font"))
}

/// Draws the chart of `results` over `scenarios` into the PNG file `path`.
pub fn draw(results: &Results, scenarios: &[Scenario], path: &Path) -> anyhow::Result<()> {
    let servers = results.servers();
    let ratios: Vec<Vec<Option<f64>>> = scenarios
        .iter()
        .map(|&scenario| {
            servers
                .iter()
                .map(|s| results.relative(scenario, s))
                .collect()
        })
        .collect();
    let known = ratios.iter().flatten().flatten().copied();
    let (low, high) = known.fold((1.0_f64, 1.0_f64), |(lo, hi), r| (lo.min(r), hi.max(r)));
    let (low, high) = ((low / 1.6).min(0.5), (high * 1.6).max(2.0));

    let root = BitMapBackend::new(path, (1400, 720)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let title = match scenarios.first().and_then(|&s| results.reference(s)) {
        Some(reference) => format!("Relative to {reference} (1.0); above 1 = better, log scale"),
        None => "No results".to_owned(),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..scenarios.len() as f64, (low..high).log_scale())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("relative performance on the key metric")
        .label_style((FONT, 16))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;

    let width = 0.8 / servers.len().max(1) as f64;
    for (column, server) in servers.iter().enumerate() {
        let color = COLORS[column % COLORS.len()];
        let bars = ratios.iter().enumerate().filter_map(|(row, per_server)| {
            let ratio = per_server[column]?;
            let left = row as f64 + 0.1 + column as f64 * width;
            Some(Rectangle::new(
                [(left, 1.0), (left + width * 0.9, ratio)],
                color.filled(),
            ))
        });
        chart
            .draw_series(bars)
            .map_err(|e| anyhow!("{e}"))?
            .label(server.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], color.filled()));
        for (row, per_server) in ratios.iter().enumerate() {
            let center = row as f64 + 0.1 + (column as f64 + 0.45) * width;
            let (label, at) = match per_server[column] {
                Some(ratio) => (format!("{ratio:.2}"), ratio.max(1.0)),
                None => ("n/a".to_owned(), 1.0),
            };
            let style =
                TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
            chart
                .draw_series(std::iter::once(Text::new(label, (center, at), style)))
                .map_err(|e| anyhow!("{e}"))?;
        }
    }
    chart
        .draw_series(LineSeries::new(
            [(0.0, 1.0), (scenarios.len() as f64, 1.0)],
            BLACK,
        ))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FONT, 16))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;

    let axis_style = TextStyle::from((FONT, 17).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (row, scenario) in scenarios.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(row as f64 + 0.5, low));
        let label = format!("{} ({})", scenario.name(), scenario.key_metric().name());
        root.draw(&Text::new(label, (x, y + 10), axis_style.clone()))
            .map_err(|e| anyhow!("{e}"))?;
    }
    root.present()
        .with_context(|| format!("writing {}", path.display()))
}
