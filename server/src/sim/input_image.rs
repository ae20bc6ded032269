//! The `image_url` of image-to-image submits: fetched and read at submit time, so a bad
//! input answers 422 at once (seed-001 `file_download_error`, `image_load_error`,
//! `image_too_small`, `image_too_large`) and a good one sets the output size.
//!
//! Only `data:` URLs and files on this server (`http://<host>/sim/files/...`: uploads and
//! generated images) can be fetched; generated images are known by their name (it fixes
//! their bytes), uploads and data URLs are decoded as PNG (the only format read).

use base64::Engine;
use serde_json::{json, Value};

use super::images::ImageSpec;
use super::Sim;

pub const MIN_SIDE: u32 = 256;
pub const MAX_SIDE: u32 = 4096;
/// Outputs keep the input's size, scaled down to fit in this square.
pub const OUTPUT_MAX_SIDE: u32 = 1024;
const PNG_SIGNATURE: [u8; 8] = [137, 80, 78, 71, 13, 10, 26, 10];
/// What the PNG decoder may allocate: a 4096x4096 16-bit RGBA picture and some.
const DECODE_LIMIT: usize = 160 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Download,
    Load,
    TooSmall,
    TooLarge,
}

impl Problem {
    /// The seed-001 issue for `url` at `["body", "image_url"]`.
    pub fn issue(self, url: &str) -> Value {
        let (msg, kind, ctx) = match self {
            Problem::Download => ("File download error", "file_download_error", None),
            Problem::Load => ("Image load error", "image_load_error", None),
            Problem::TooSmall => ("Image too small", "image_too_small", Some(json!({ "min_height": MIN_SIDE, "min_width": MIN_SIDE }))),
            Problem::TooLarge => ("Image too large", "image_too_large", Some(json!({ "max_height": MAX_SIDE, "max_width": MAX_SIDE }))),
        };
        let mut issue = json!({ "loc": ["body", "image_url"], "msg": msg, "type": kind, "url": format!("https://docs.fal.ai/errors/#{kind}") });
        if let Some(ctx) = ctx {
            issue["ctx"] = ctx;
        }
        issue["input"] = json!(url);
        issue
    }
}

enum Fetched {
    Bytes(Vec<u8>),
    /// A generated image, whose size is in its name.
    Generated(u32, u32),
}

/// Fetches and reads `url`; `base` is `http://<host>` of the submit. Returns the input's size.
pub(crate) async fn load(sim: &Sim, base: &str, url: &str) -> Result<(u32, u32), Problem> {
    match fetch(sim, base, url)? {
        Fetched::Generated(w, h) => check_size(w, h),
        Fetched::Bytes(bytes) => tokio::task::spawn_blocking(move || read_png(&bytes)).await.unwrap_or(Err(Problem::Load)),
    }
}

/// The output size for an input of `size`: the same, scaled down to fit OUTPUT_MAX_SIDE.
pub fn output_size((w, h): (u32, u32)) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= OUTPUT_MAX_SIDE {
        return (w, h);
    }
    let scale = |v: u32| ((u64::from(v) * u64::from(OUTPUT_MAX_SIDE) + u64::from(longest) / 2) / u64::from(longest)).max(1) as u32;
    (scale(w), scale(h))
}

fn check_size(w: u32, h: u32) -> Result<(u32, u32), Problem> {
    if w < MIN_SIDE || h < MIN_SIDE {
        Err(Problem::TooSmall)
    } else if w > MAX_SIDE || h > MAX_SIDE {
        Err(Problem::TooLarge)
    } else {
        Ok((w, h))
    }
}

fn fetch(sim: &Sim, base: &str, url: &str) -> Result<Fetched, Problem> {
    if url.len() >= 5 && url[..5].eq_ignore_ascii_case("data:") {
        return decode_data_url(url).map(Fetched::Bytes).ok_or(Problem::Download);
    }
    let parsed = url::Url::parse(url).map_err(|_| Problem::Download)?;
    if !same_origin(&parsed, base) {
        return Err(Problem::Download);
    }
    let rest = parsed.path().strip_prefix("/sim/files/").ok_or(Problem::Download)?;
    if let Some(up) = rest.strip_prefix("up/") {
        let (id, name) = up.split_once('/').ok_or(Problem::Download)?;
        let st = sim.storage();
        let file = st.file(id, name).ok_or(Problem::Download)?;
        return Ok(Fetched::Bytes(file.bytes.to_vec()));
    }
    let spec = ImageSpec::parse(rest).ok_or(Problem::Download)?;
    Ok(Fetched::Generated(spec.width, spec.height))
}

/// `http` on the submit's host and port; loopback names count as one host.
fn same_origin(url: &url::Url, base: &str) -> bool {
    let Ok(base) = url::Url::parse(base) else { return false };
    let loopback = |h: &str| matches!(h, "localhost" | "127.0.0.1" | "[::1]");
    let (a, b) = (url.host_str().unwrap_or(""), base.host_str().unwrap_or(""));
    url.scheme() == "http"
        && url.username().is_empty()
        && url.password().is_none()
        && url.port_or_known_default() == base.port_or_known_default()
        && (a.eq_ignore_ascii_case(b) || (loopback(a) && loopback(b)))
}

/// `data:[<media type>][;base64],<data>`; `None` if it does not decode.
pub fn decode_data_url(url: &str) -> Option<Vec<u8>> {
    let (meta, data) = url.get(5..)?.split_once(',')?;
    if meta.to_ascii_lowercase().ends_with(";base64") {
        let compact: String = percent_decode(data).chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let engine = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new().with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        engine.decode(compact.as_bytes()).ok()
    } else {
        Some(percent_decode(data).into_bytes())
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Reads a PNG's size from its header, checks it, then decodes the whole picture (a
/// corrupted file fails there). Anything that is not a PNG cannot be loaded.
pub fn read_png(bytes: &[u8]) -> Result<(u32, u32), Problem> {
    if !bytes.starts_with(&PNG_SIGNATURE) {
        return Err(Problem::Load);
    }
    let decoder = png::Decoder::new_with_limits(bytes, png::Limits { bytes: DECODE_LIMIT });
    let mut reader = decoder.read_info().map_err(|_| Problem::Load)?;
    let (w, h) = (reader.info().width, reader.info().height);
    check_size(w, h)?;
    let mut buf = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut buf).map_err(|_| Problem::Load)?;
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Grayscale);
        let mut writer = enc.write_header().expect("header");
        writer.write_image_data(&vec![7; (w * h) as usize]).expect("data");
        writer.finish().expect("finish");
        out
    }

    #[test]
    fn reads_and_checks_png_sizes() {
        assert_eq!(read_png(&png(300, 256)), Ok((300, 256)));
        assert_eq!(read_png(&png(64, 64)), Err(Problem::TooSmall));
        assert_eq!(read_png(&png(4097, 300)), Err(Problem::TooLarge));
        assert_eq!(read_png(b"GIF89a...."), Err(Problem::Load));
        let mut cut = png(300, 300);
        cut.truncate(cut.len() - 30);
        assert_eq!(read_png(&cut), Err(Problem::Load));
        let mut flipped = png(300, 300);
        let n = flipped.len();
        flipped[n - 40] ^= 0xff;
        assert_eq!(read_png(&flipped), Err(Problem::Load));
    }

    #[test]
    fn data_urls_decode() {
        assert_eq!(decode_data_url("data:image/png;base64,aGk="), Some(b"hi".to_vec()));
        assert_eq!(decode_data_url("data:;base64,aGk"), Some(b"hi".to_vec()));
        assert_eq!(decode_data_url("data:text/plain,a%20b"), Some(b"a b".to_vec()));
        assert_eq!(decode_data_url("data:image/png;base64,@@@"), None);
        assert_eq!(decode_data_url("data:nocomma"), None);
    }

    #[test]
    fn outputs_fit_in_1024() {
        assert_eq!(output_size((300, 200)), (300, 200));
        assert_eq!(output_size((2048, 1536)), (1024, 768));
        assert_eq!(output_size((4096, 256)), (1024, 64));
    }

    #[test]
    fn issues_have_the_seed_001_shape() {
        let v = Problem::TooSmall.issue("u");
        assert_eq!(
            v.to_string(),
            r#"{"loc":["body","image_url"],"msg":"Image too small","type":"image_too_small","url":"https://docs.fal.ai/errors/#image_too_small","ctx":{"min_height":256,"min_width":256},"input":"u"}"#
        );
    }
}
