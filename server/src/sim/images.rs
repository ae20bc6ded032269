//! Deterministic procedural PNGs standing in for generated images.
//!
//! Files are stateless: `/sim/files/<w>x<h>-<seed>-<prompt hash>.png` carries everything
//! needed to redraw the picture, so nothing is stored and any server instance can serve it.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub const MAX_SIDE: u32 = 2048;
const DEFAULT_SIZE: (u32, u32) = (1024, 768);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSpec {
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    pub prompt_hash: u64,
}

impl ImageSpec {
    pub fn file_name(&self) -> String {
        format!("{}x{}-{}-{:016x}.png", self.width, self.height, self.seed, self.prompt_hash)
    }

    /// Accepts only the exact form `file_name` produces, so each picture has one URL.
    pub fn parse(name: &str) -> Option<ImageSpec> {
        let stem = name.strip_suffix(".png")?;
        let mut parts = stem.splitn(3, '-');
        let (size, seed, hash) = (parts.next()?, parts.next()?, parts.next()?);
        let (w, h) = size.split_once('x')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(w) || !digits(h) || !digits(seed) || hash.len() != 16 {
            return None;
        }
        let spec = ImageSpec { width: w.parse().ok()?, height: h.parse().ok()?, seed: seed.parse().ok()?, prompt_hash: u64::from_str_radix(hash, 16).ok()? };
        let in_range = |v: u32| (1..=MAX_SIDE).contains(&v);
        (in_range(spec.width) && in_range(spec.height) && spec.file_name() == name).then_some(spec)
    }
}

/// FNV-1a, then a SplitMix finalizer; stable across Rust versions (unlike DefaultHasher).
pub fn prompt_hash(prompt: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in prompt.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// The seed used when the input has none: a 31-bit number, like fal's seeds.
pub fn seed_from_hash(hash: u64) -> u64 {
    hash >> 33
}

pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The size an endpoint uses without `image_size` (matching its OpenAPI default).
pub fn default_size(endpoint: &str) -> (u32, u32) {
    match endpoint {
        "fal-ai/fast-sdxl" => (1024, 1024),
        _ => DEFAULT_SIZE,
    }
}

/// `image_size` as fal takes it: a preset name or `{width, height}`; anything else gets `default`.
pub fn image_size(input: &Value, default: (u32, u32)) -> (u32, u32) {
    match input.get("image_size") {
        Some(Value::String(preset)) => match preset.as_str() {
            "square_hd" => (1024, 1024),
            "square" => (512, 512),
            "portrait_4_3" => (768, 1024),
            "portrait_16_9" => (576, 1024),
            "landscape_4_3" => (1024, 768),
            "landscape_16_9" => (1024, 576),
            _ => default,
        },
        Some(Value::Object(o)) => {
            let side = |k: &str| o.get(k).and_then(Value::as_u64).map(|v| v.clamp(1, u64::from(MAX_SIDE)) as u32);
            match (side("width"), side("height")) {
                (Some(w), Some(h)) => (w, h),
                _ => default,
            }
        }
        _ => default,
    }
}

pub async fn serve_file(Path(name): Path<String>) -> Response {
    let Some(spec) = ImageSpec::parse(&name) else {
        return (StatusCode::NOT_FOUND, "no such simulated image").into_response();
    };
    match tokio::task::spawn_blocking(move || render_png(&spec)).await {
        Ok(Ok(png)) => {
            let mut resp = png.into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            // The name determines the bytes, so the browser may keep it forever.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
            resp
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "could not render image").into_response(),
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / (1u64 << 24) as f32)
    }
}

type Rgb = [f32; 3];

fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let h = h.rem_euclid(1.0) * 6.0;
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [(r + m) * 255.0, (g + m) * 255.0, (b + m) * 255.0]
}

fn lerp(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

// The loops below avoid per-pixel calls and square roots where they can: the server
// crate is built unoptimized in dev and tests, and a 1024x1024 picture should still be quick.
impl Canvas {
    /// Blends colour `c` with opacity `a` over pixels `x0..x1` of row `y`.
    fn blend_span(&mut self, y: usize, x0: usize, x1: usize, c: Rgb, a: f32) {
        let (r, g, b) = (c[0] * a, c[1] * a, c[2] * a);
        let keep = 1.0 - a;
        let px = &mut self.px;
        let (mut i, end) = ((y * self.w + x0) * 3, (y * self.w + x1) * 3);
        while i < end {
            px[i] = (f32::from(px[i]) * keep + r) as u8;
            px[i + 1] = (f32::from(px[i + 1]) * keep + g) as u8;
            px[i + 2] = (f32::from(px[i + 2]) * keep + b) as u8;
            i += 3;
        }
    }

    /// A disc with a soft edge, or a radial glow when `glow` is set; each row visits only
    /// the span the shape covers, and the solid middle of that span needs no distance.
    fn disc(&mut self, cx: f32, cy: f32, r: f32, c: Rgb, alpha: f32, glow: bool) {
        let reach = if glow { r * 3.0 } else { r + 0.75 };
        let solid = if glow { r } else { (r - 0.75).max(0.0) };
        let y0 = (cy - reach).floor().max(0.0) as usize;
        let y1 = ((cy + reach).ceil().max(0.0) as usize).min(self.h);
        let w = self.w;
        let clamp_x = |v: f32| (v.max(0.0) as usize).min(w);
        for y in y0..y1 {
            let dy = y as f32 + 0.5 - cy;
            let outer = reach * reach - dy * dy;
            if outer <= 0.0 {
                continue;
            }
            let half = outer.sqrt();
            let (x0, x1) = (clamp_x((cx - half).floor()), clamp_x((cx + half).ceil()));
            let inner = solid * solid - dy * dy;
            let (s0, s1) = if inner > 0.0 {
                let hi = inner.sqrt();
                (clamp_x((cx - hi).ceil()).max(x0), clamp_x((cx + hi).floor()).min(x1))
            } else {
                (x1, x1)
            };
            if s0 < s1 {
                self.blend_span(y, s0, s1, c, alpha);
            }
            for x in (x0..s0.min(x1)).chain(s1.max(x0)..x1) {
                let dx = x as f32 + 0.5 - cx;
                let d = (dx * dx + dy * dy).sqrt();
                let a = if glow {
                    let t = (1.0 - d / reach).max(0.0);
                    t * t * 0.8
                } else {
                    ((r - d + 0.75) / 1.5).clamp(0.0, 1.0)
                };
                if a > 0.0 {
                    self.blend_span(y, x, x + 1, c, a * alpha);
                }
            }
        }
    }
}

/// Sky gradient, a glowing sun, translucent bubbles and layered hills, all picked by
/// a generator seeded from (prompt hash, seed): different prompts give different pictures.
pub fn render_png(spec: &ImageSpec) -> Result<Vec<u8>, png::EncodingError> {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let (wf, hf) = (w as f32, h as f32);
    let min_side = wf.min(hf);
    let mut rng = Rng(spec.prompt_hash ^ spec.seed.wrapping_mul(0x2545_f491_4f6c_dd1d));

    let hue = rng.range(0.0, 1.0);
    let offsets: [f32; 5] = match rng.next() % 3 {
        0 => [0.0, 0.06, 0.12, -0.06, 0.18],
        1 => [0.0, 0.5, 0.04, 0.54, 0.46],
        _ => [0.0, 0.33, 0.66, 0.1, 0.43],
    };
    let palette: Vec<Rgb> = offsets.iter().map(|o| hsv(hue + o + rng.range(-0.02, 0.02), rng.range(0.45, 0.85), rng.range(0.6, 0.98))).collect();
    let sky_top = hsv(hue + rng.range(0.45, 0.6), rng.range(0.25, 0.55), rng.range(0.85, 1.0));
    let sky_bottom = hsv(hue + rng.range(-0.05, 0.1), rng.range(0.35, 0.7), rng.range(0.7, 0.95));

    // Sky: a gradient along a mostly vertical direction; along a row the colour changes
    // linearly, so each pixel is one add per channel (t stays in [0, 1] by construction).
    let angle = rng.range(1.2, 1.95);
    let extent = wf * angle.cos().abs() + hf * angle.sin().abs();
    let (dx, dy) = (angle.cos() / extent, angle.sin() / extent);
    let step = [(sky_bottom[0] - sky_top[0]) * dx, (sky_bottom[1] - sky_top[1]) * dx, (sky_bottom[2] - sky_top[2]) * dx];
    let mut canvas = Canvas { w, h, px: vec![0; w * h * 3] };
    let px = &mut canvas.px;
    let mut i = 0;
    for y in 0..h {
        let t0 = (y as f32 - hf / 2.0) * dy + (-wf / 2.0) * dx + 0.5;
        let mut c = lerp(sky_top, sky_bottom, t0);
        let row_end = i + w * 3;
        while i < row_end {
            px[i] = c[0] as u8;
            px[i + 1] = c[1] as u8;
            px[i + 2] = c[2] as u8;
            c[0] += step[0];
            c[1] += step[1];
            c[2] += step[2];
            i += 3;
        }
    }

    let sun = hsv(hue + rng.range(0.08, 0.16), rng.range(0.2, 0.5), 1.0);
    let (sx, sy, sr) = (rng.range(0.15, 0.85) * wf, rng.range(0.12, 0.45) * hf, rng.range(0.05, 0.1) * min_side);
    canvas.disc(sx, sy, sr, sun, 0.9, true);

    let bubbles = 5 + (rng.next() % 6) as usize;
    for _ in 0..bubbles {
        let c = palette[(rng.next() % palette.len() as u64) as usize];
        let (cx, cy, r) = (rng.range(0.0, 1.0) * wf, rng.range(0.0, 0.8) * hf, rng.range(0.02, 0.15) * min_side);
        canvas.disc(cx, cy, r, c, rng.range(0.25, 0.65), false);
    }

    // Hills: each layer nearer and darker, shaded downwards; the edge pixel is blended by
    // its fractional coverage, the rest is opaque and written with one add per channel.
    let layers = 2 + (rng.next() % 2) as usize;
    for layer in 0..layers {
        let depth = layer as f32 / layers as f32;
        let base = hf * (0.58 + 0.13 * layer as f32 + rng.range(-0.04, 0.04));
        let (a1, f1, p1) = (hf * rng.range(0.03, 0.09), rng.range(1.0, 3.0) * std::f32::consts::TAU / wf, rng.range(0.0, 6.3));
        let (a2, f2, p2) = (hf * rng.range(0.01, 0.03), rng.range(4.0, 9.0) * std::f32::consts::TAU / wf, rng.range(0.0, 6.3));
        let top = palette[(layer + 1) % palette.len()];
        let color = lerp(top, [10.0, 12.0, 24.0], 0.2 + 0.45 * depth);
        let shade = lerp(color, [0.0, 0.0, 0.0], 0.35);
        for x in 0..w {
            let xf = x as f32;
            let edge = (base + a1 * (f1 * xf + p1).sin() + a2 * (f2 * xf + p2).sin()).max(0.0);
            let first = edge.floor() as usize;
            if first >= h {
                continue;
            }
            canvas.blend_span(first, x, x + 1, color, 1.0 - edge.fract());
            let span = (hf - edge).max(1.0);
            let d = [(shade[0] - color[0]) / span, (shade[1] - color[1]) / span, (shade[2] - color[2]) / span];
            let mut c = color;
            let (mut i, end) = (((first + 1) * w + x) * 3, h * w * 3);
            while i < end {
                c[0] += d[0];
                c[1] += d[1];
                c[2] += d[2];
                canvas.px[i] = c[0] as u8;
                canvas.px[i + 1] = c[1] as u8;
                canvas.px[i + 2] = c[2] as u8;
                i += w * 3;
            }
        }
    }

    let mut out = Vec::with_capacity(w * h);
    let mut encoder = png::Encoder::new(&mut out, spec.width, spec.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&canvas.px)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_reject_variants() {
        let spec = ImageSpec { width: 64, height: 48, seed: 7, prompt_hash: 0xabc };
        let name = spec.file_name();
        assert_eq!(ImageSpec::parse(&name), Some(spec));
        for bad in [
            "64x48-7-0000000000000abc",
            "064x48-7-0000000000000abc.png",
            "0x48-7-0000000000000abc.png",
            "9999x48-7-0000000000000abc.png",
            "64x48-+7-0000000000000abc.png",
            "64x48-7-0000000000000ABC.png",
            "../x.png",
            "",
        ] {
            assert_eq!(ImageSpec::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn presets_and_custom_sizes() {
        let d = default_size("fal-ai/flux/dev");
        assert_eq!(image_size(&serde_json::json!({}), d), (1024, 768));
        assert_eq!(image_size(&serde_json::json!({}), default_size("fal-ai/fast-sdxl")), (1024, 1024));
        assert_eq!(image_size(&serde_json::json!({"image_size": "portrait_16_9"}), d), (576, 1024));
        assert_eq!(image_size(&serde_json::json!({"image_size": {"width": 300, "height": 200}}), d), (300, 200));
        assert_eq!(image_size(&serde_json::json!({"image_size": {"width": 9999, "height": 0}}), d), (MAX_SIDE, 1));
    }
}
#[cfg(test)]
mod timing {
    #[test]
    #[ignore]
    fn time_render() {
        let spec = super::ImageSpec { width: 1024, height: 1024, seed: 1, prompt_hash: 42 };
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let png = super::render_png(&spec).unwrap();
            eprintln!("render {:?} {}B", t.elapsed(), png.len());
        }
    }
}
