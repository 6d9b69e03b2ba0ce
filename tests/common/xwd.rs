//! Screenshots of an X display for tests: `xwd -root` and a reader for its (uncompressed) format,
//! so a test can look at the pixels a real window drew.

use std::process::Command;

pub struct Image {
    pub width: usize,
    pub height: usize,
    /// Row-major RGB.
    pub rgb: Vec<[u8; 3]>,
}

impl Image {
    /// Pixels within `tol` of `color` in every channel, inside columns `x0..x1`.
    pub fn count(&self, color: [u8; 3], tol: u8, x0: usize, x1: usize) -> usize {
        let mut n = 0;
        for y in 0..self.height {
            for x in x0..x1.min(self.width) {
                let p = self.rgb[y * self.width + x];
                if p.iter().zip(color).all(|(&a, b)| a.abs_diff(b) <= tol) {
                    n += 1;
                }
            }
        }
        n
    }
}

impl Image {
    /// Writes the picture as an 8-bit RGB PNG (for the README and for a reader of a failed run).
    pub fn save_png(&self, path: &std::path::Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut enc = png::Encoder::new(std::io::BufWriter::new(std::fs::File::create(path)?), self.width as u32, self.height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let bytes: Vec<u8> = self.rgb.iter().flatten().copied().collect();
        enc.write_header().and_then(|mut w| w.write_image_data(&bytes)).map_err(std::io::Error::other)
    }

    /// The part of the picture inside `x0..x1`, `y0..y1` (clipped to it).
    pub fn crop(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> Image {
        let (x1, y1) = (x1.min(self.width), y1.min(self.height));
        let rgb = (y0..y1).flat_map(|y| (x0..x1).map(move |x| (y, x))).map(|(y, x)| self.rgb[y * self.width + x]).collect();
        Image { width: x1 - x0, height: y1 - y0, rgb }
    }
}

fn be(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Parses an XWD file with 24- or 32-bit pixels (what Xvfb's 24-bit screens give).
pub fn parse(data: &[u8]) -> Result<Image, String> {
    if data.len() < 100 {
        return Err("XWD file too short".into());
    }
    let header_size = be(data, 0) as usize;
    let (width, height) = (be(data, 4) as usize, be(data, 5) as usize);
    let byte_order = be(data, 7);
    let bits_per_pixel = be(data, 11);
    let bytes_per_line = be(data, 12) as usize;
    let masks = [be(data, 14), be(data, 15), be(data, 16)];
    let ncolors = be(data, 19) as usize;
    if bits_per_pixel != 32 && bits_per_pixel != 24 {
        return Err(format!("unsupported XWD pixel size {bits_per_pixel}"));
    }
    let start = header_size + 12 * ncolors;
    // Pixels are packed at bits_per_pixel (Xvfb's 24-bit screens: 3 bytes), lines padded.
    let bpp = bits_per_pixel as usize / 8;
    if data.len() < start + bytes_per_line * height {
        return Err("XWD file truncated".into());
    }
    let mut rgb = Vec::with_capacity(width * height);
    for y in 0..height {
        let row = &data[start + y * bytes_per_line..];
        for x in 0..width {
            let px = &row[x * bpp..x * bpp + bpp];
            let mut v = 0u32;
            for (i, &b) in px.iter().enumerate() {
                v |= (b as u32) << if byte_order == 0 { 8 * i } else { 8 * (bpp - 1 - i) };
            }
            let chan = |m: u32| ((v & m) >> m.trailing_zeros()) as u8;
            rgb.push([chan(masks[0]), chan(masks[1]), chan(masks[2])]);
        }
    }
    Ok(Image { width, height, rgb })
}

/// Takes a screenshot of the whole of `display`.
pub fn screenshot(display: &str) -> Image {
    let out =
        Command::new("xwd").args(["-root", "-silent", "-display", display]).output().expect("xwd (Debian x11-apps) must be installed");
    assert!(out.status.success(), "xwd failed: {}", String::from_utf8_lossy(&out.stderr));
    parse(&out.stdout).unwrap()
}
