//! The command line's arguments (clap) and how they become the library's options.

use clap::{Args, Parser, Subcommand};
use soundsticker::LoudnessRef;
use soundsticker::art::{Background, Fit, Shape, Style};
use soundsticker::audio::{ChannelMode, FadeCurve};
use soundsticker::pack::InitOptions;
use soundsticker::{Bitrate, ClipOptions, CoverOptions, Error, ImageKind, Platform, Timecode};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "soundsticker",
    version,
    about = "Turn master tracks and cover art into sound-sticker packs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
    /// Print one JSON document on stdout instead of human output on stderr.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress display. Without a terminal (or with CI set) there is no bar; `build` then prints
    /// one line per finished sticker and platform instead.
    #[arg(long, short, global = true)]
    pub(super) quiet: bool,
}

#[derive(Subcommand, Debug)]
pub(super) enum Command {
    /// Show format, exact length, tags and loudness of audio files.
    Probe {
        /// Audio files (WAV, FLAC, MP3, AAC/M4A, ALAC, Ogg Vorbis, AIFF, Ogg Opus).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Cut a clip from a master, normalise its loudness and encode it (.ogg/.opus or .wav).
    Clip(Box<ClipArgs>),
    /// Render an animated sticker from cover art, driven by a clip's audio (.webp, .png, .gif, .webm).
    Cover(Box<CoverArgs>),
    /// Build the sticker packs described by a manifest, for every platform it names.
    Build {
        /// The manifest.
        #[arg(default_value = "pack.json")]
        manifest: PathBuf,
        /// Output folder (default: dist/ beside the manifest); replaced only when the build succeeds.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only these platforms (comma-separated; default: the manifest's).
        #[arg(long, value_delimiter = ',')]
        platform: Vec<Platform>,
        /// Stickers built at the same time (default: one per core); each also spreads its frames and
        /// encodes over all cores.
        #[arg(long, value_parser = at_least_one)]
        jobs: Option<usize>,
        /// Encode every sticker again instead of copying unchanged ones from the cache (refreshes it).
        #[arg(long)]
        force: bool,
        /// Cache folder (default: .soundsticker-cache/ beside the manifest).
        #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
        cache: Option<PathBuf>,
        /// Use no cache: neither read nor keep results.
        #[arg(long)]
        no_cache: bool,
        /// Build only shard I of N (stickers I, I+N, ...) into --out, for CI matrices; no packs.
        #[arg(long, value_name = "I/N", conflicts_with = "merge")]
        shard: Option<soundsticker::pack::Shard>,
        /// Assemble the packs from the --out folders of `build --shard` runs.
        #[arg(long, value_name = "DIR", num_args = 1..)]
        merge: Vec<PathBuf>,
        /// When some stickers fail, still write the packs without them (listed in the report; the
        /// exit status is still 1). Without it a failed sticker leaves the previous output as it was.
        #[arg(long, short = 'k')]
        keep_going: bool,
    },
    /// Check a pack folder or archive against a platform's rules; exit status 1 if anything breaks them.
    Validate {
        /// A pack folder (e.g. dist/whatsapp) or archive (.wastickers, .zip).
        path: PathBuf,
        /// whatsapp, telegram, signal or discord.
        #[arg(long)]
        platform: Platform,
    },
    /// Print the JSON Schema of the pack manifest (pack.json).
    Schema,
    /// Write a pack.json for a folder of masters and images (one sticker per master, at its loudest part).
    Init {
        /// The folder (default: the current one).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Clip length of each sticker.
        #[arg(long, default_value_t = InitOptions::default().duration.to_short_string())]
        duration: String,
        /// Platforms to build for (default: all).
        #[arg(long, value_delimiter = ',')]
        platforms: Vec<Platform>,
        /// Replace an existing pack.json.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args, Debug)]
pub(super) struct CoverArgs {
    /// The cover image (JPEG, PNG, WebP, GIF, BMP).
    pub(super) cover: PathBuf,
    /// The clip whose audio drives the animation (any supported audio file).
    #[arg(long)]
    pub(super) audio: Option<PathBuf>,
    /// Output file; the extension picks the format unless --format is given.
    #[arg(short, long)]
    pub(super) output: PathBuf,
    /// Animation: pulse, vinyl, wave, bars, or still (a static sticker).
    #[arg(long, default_value_t = CoverOptions::default().style)]
    pub(super) style: Style,
    /// Take size, format, fps, duration and byte cap from a platform: whatsapp, telegram, signal, discord.
    #[arg(long)]
    pub(super) platform: Option<Platform>,
    /// Image format: webp, png (APNG when animated), gif, webm (VP9).
    #[arg(long, value_parser = parse_kind)]
    pub(super) format: Option<ImageKind>,
    /// Canvas side in pixels (default: the platform's, else 512).
    #[arg(long)]
    pub(super) size: Option<u32>,
    /// Frames per second (default: the platform's, else 20).
    #[arg(long)]
    pub(super) fps: Option<f64>,
    /// Longest loop (default: the platform's limit, else 10 s).
    #[arg(long)]
    pub(super) max_duration: Option<String>,
    /// Largest allowed file size in bytes (default: the platform's cap).
    #[arg(long)]
    pub(super) max_bytes: Option<u64>,
    /// Quality 0–100, the best the fitter may use.
    #[arg(long, default_value_t = CoverOptions::default().quality)]
    pub(super) quality: f32,
    /// Lossless WebP.
    #[arg(long)]
    pub(super) lossless: bool,
    /// Encoder effort 0 (fast) to 6 (best at a byte cap): WebP's method; VP9 0-4 realtime speed 8-4, 5-6
    /// good-quality speed 4-3; APNG 0-1 zlib level 6, 2-6 level 9.
    #[arg(long, default_value_t = CoverOptions::default().method, value_parser = clap::value_parser!(i32).range(0..=6))]
    pub(super) method: i32,
    /// APNG colours: palette (one shared palette of up to 256 colours: far more detail under a byte
    /// cap) or truecolour (posterised; Signal needs it). Default: palette where the platform animates
    /// palette APNGs (Discord), else truecolour.
    #[arg(long, value_parser = ["palette", "truecolour"])]
    pub(super) apng: Option<String>,
    /// SSIM (0..1, against the rendered frames) past which no more bytes are spent: a sticker that
    /// would look better is encoded at the lowest quality that still reaches it. 1 fills the byte cap.
    #[arg(long, default_value_t = soundsticker::DEFAULT_ENOUGH_SSIM)]
    pub(super) enough_ssim: f64,
    /// cover (crop to fill) or contain (letterbox).
    #[arg(long, default_value_t = fit_defaults().0)]
    pub(super) fit: String,
    /// Crop focus for --fit cover, as x,y in 0..1.
    #[arg(long, default_value_t = fit_defaults().1)]
    pub(super) focus: String,
    /// Letterbox for --fit contain: transparent, blur or #rrggbb.
    #[arg(long, default_value_t = fit_defaults().2)]
    pub(super) background: String,
    /// square, rounded or circle.
    #[arg(long, default_value_t = CoverOptions::default().shape)]
    pub(super) shape: Shape,
    /// White die-cut outline width in px (at 512 px).
    #[arg(long, default_value_t = CoverOptions::default().outline)]
    pub(super) outline: u32,
    /// Transparent margin in px (at 512 px).
    #[arg(long, default_value_t = CoverOptions::default().margin)]
    pub(super) margin: u32,
    /// Also save the rendered frames as numbered PNGs in this folder (previews, comparisons).
    #[arg(long)]
    pub(super) save_frames: Option<PathBuf>,
}

fn parse_kind(s: &str) -> Result<ImageKind, String> {
    match s {
        "webp" => Ok(ImageKind::Webp),
        "png" | "apng" => Ok(ImageKind::Png),
        "gif" => Ok(ImageKind::Gif),
        "webm" => Ok(ImageKind::Webm),
        _ => Err(format!(
            "`{s}` is not an image format; use webp, png, gif or webm"
        )),
    }
}

fn parse_fit(a: &CoverArgs) -> Result<Fit, Error> {
    match a.fit.as_str() {
        "cover" => {
            let bad = || {
                Error::invalid(
                    "--focus",
                    format!("`{}` is not x,y with both in 0..1", a.focus),
                )
            };
            let (x, y) = a.focus.split_once(',').ok_or_else(bad)?;
            let (x, y): (f32, f32) = (
                x.trim().parse().map_err(|_| bad())?,
                y.trim().parse().map_err(|_| bad())?,
            );
            if !(0.0..=1.0).contains(&x) || !(0.0..=1.0).contains(&y) {
                return Err(bad());
            }
            Ok(Fit::Cover { focus: (x, y) })
        }
        "contain" => {
            let background = match a.background.as_str() {
                "transparent" => Background::Transparent,
                "blur" => Background::Blur,
                hex => {
                    let h = hex.trim_start_matches('#');
                    let v = (h.len() == 6)
                        .then(|| u32::from_str_radix(h, 16).ok())
                        .flatten()
                        .ok_or_else(|| {
                            Error::invalid(
                                "--background",
                                format!("`{hex}` is not transparent, blur or #rrggbb"),
                            )
                        })?;
                    Background::Color([(v >> 16) as u8, (v >> 8) as u8, v as u8, 255])
                }
            };
            Ok(Fit::Contain { background })
        }
        other => Err(Error::invalid(
            "--fit",
            format!("`{other}` is not cover or contain"),
        )),
    }
}

pub(super) fn cover_options(a: &CoverArgs) -> Result<CoverOptions, Error> {
    if !(0.0..=100.0).contains(&a.quality) {
        return Err(Error::invalid(
            "--quality",
            format!("{} is outside 0..100", a.quality),
        ));
    }
    if !(a.enough_ssim > 0.0 && a.enough_ssim <= 1.0) {
        return Err(Error::invalid(
            "--enough-ssim",
            format!("{} is outside 0..1 (1 fills the byte cap)", a.enough_ssim),
        ));
    }
    let mut o = CoverOptions::default();
    o.style = a.style;
    o.platform = a.platform;
    o.format = a.format;
    o.size = a.size;
    o.fps = a.fps;
    o.max_duration = a
        .max_duration
        .as_deref()
        .map(|t| Timecode::parse_field(t, "--max-duration"))
        .transpose()?;
    o.max_bytes = a.max_bytes;
    o.quality = a.quality;
    o.lossless = a.lossless;
    o.method = a.method;
    o.palette = a.apng.as_deref().map(|v| v == "palette");
    o.enough_ssim = Some(a.enough_ssim);
    o.fit = parse_fit(a)?;
    o.shape = a.shape;
    o.outline = a.outline;
    o.margin = a.margin;
    o.frames_dir = a.save_frames.clone();
    Ok(o)
}

#[derive(Args, Debug)]
pub(super) struct ClipArgs {
    /// The master track.
    pub(super) master: PathBuf,
    /// Output file: .ogg or .opus for Ogg Opus, .wav for WAV.
    #[arg(short, long)]
    pub(super) output: PathBuf,
    /// Start in the master: 83.5, 1:23.5, 01:23.500 or 83500ms.
    #[arg(long, default_value_t = ClipOptions::default().start.to_short_string())]
    pub(super) start: String,
    /// End in the master (exclusive), same forms as --start.
    #[arg(long, conflicts_with = "duration")]
    pub(super) end: Option<String>,
    /// Clip length, as an alternative to --end.
    #[arg(long)]
    pub(super) duration: Option<String>,
    /// Fade-in length.
    #[arg(long, default_value_t = ClipOptions::default().fade_in.to_short_string())]
    pub(super) fade_in: String,
    /// Fade-out length.
    #[arg(long, default_value_t = ClipOptions::default().fade_out.to_short_string())]
    pub(super) fade_out: String,
    /// Fade shape: linear, sine (equal power), scurve or exp.
    #[arg(long, default_value_t = ClipOptions::default().fade_curve)]
    pub(super) fade_curve: FadeCurve,
    /// Output channels: mono, stereo or keep (surround becomes stereo for Opus).
    #[arg(long, default_value_t = ClipOptions::default().channels)]
    pub(super) channels: ChannelMode,
    /// Integrated loudness target in LUFS, or `off` to keep the level.
    #[arg(long, default_value_t = number_or_off_text(ClipOptions::default().loudness_lufs), allow_hyphen_values = true)]
    pub(super) loudness: String,
    /// Measure the gain on the clip, or on the whole master (same gain for every clip of a track).
    #[arg(long, default_value_t = ClipOptions::default().loudness_ref, value_parser = parse_ref)]
    pub(super) loudness_ref: LoudnessRef,
    /// True-peak ceiling in dBTP, or `off` to disable the limiter.
    #[arg(long, default_value_t = number_or_off_text(ClipOptions::default().true_peak_dbtp), allow_hyphen_values = true)]
    pub(super) true_peak: String,
    /// Opus bitrate, e.g. 64k (default 96k stereo, 64k mono).
    #[arg(long)]
    pub(super) bitrate: Option<Bitrate>,
    /// Largest allowed output size in bytes; the highest bitrate that fits is chosen.
    #[arg(long)]
    pub(super) max_bytes: Option<u64>,
    /// WAV bits per sample (16 is dithered).
    #[arg(long, default_value_t = ClipOptions::default().wav_bits)]
    pub(super) bits: u16,
    /// WAV output sample rate (Opus is always 48000).
    #[arg(long)]
    pub(super) sample_rate: Option<u32>,
    /// TITLE tag (default: the master's).
    #[arg(long)]
    pub(super) title: Option<String>,
    /// ARTIST tag (default: the master's).
    #[arg(long)]
    pub(super) artist: Option<String>,
    /// ALBUM tag (default: the master's).
    #[arg(long)]
    pub(super) album: Option<String>,
    /// Cover picture (PNG or JPEG) to embed in the Ogg Opus tags.
    #[arg(long)]
    pub(super) picture: Option<PathBuf>,
}

fn parse_ref(s: &str) -> Result<LoudnessRef, String> {
    match s {
        "clip" => Ok(LoudnessRef::Clip),
        "master" => Ok(LoudnessRef::Master),
        _ => Err(format!(
            "`{s}` is not a loudness reference; use clip or master"
        )),
    }
}

/// How `number_or_off` writes a library default.
fn number_or_off_text(value: Option<f64>) -> String {
    value.map_or_else(|| "off".into(), |v| v.to_string())
}

/// The library's default fit as `--fit`, `--focus` and `--background` write it.
fn fit_defaults() -> (String, String, String) {
    let background = |b: Background| match b {
        Background::Transparent => "transparent".to_string(),
        Background::Blur => "blur".into(),
        Background::Color([r, g, b, _]) => format!("#{r:02x}{g:02x}{b:02x}"),
        _ => "transparent".into(),
    };
    match Fit::default() {
        Fit::Contain { background: b } => ("contain".into(), "0.5,0.5".into(), background(b)),
        Fit::Cover { focus: (x, y) } => (
            "cover".into(),
            format!("{x},{y}"),
            background(Background::default()),
        ),
        // A fit this command line does not know yet: the library's own default stands.
        _ => (
            "cover".into(),
            "0.5,0.5".into(),
            background(Background::default()),
        ),
    }
}

/// A number, or `off` for `None`.
fn number_or_off(text: &str, field: &str, unit: &str) -> Result<Option<f64>, Error> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!("`{text}` is not a number of {unit} or `off`"),
            )
        })
}

pub(super) fn clip_options(a: &ClipArgs) -> Result<ClipOptions, Error> {
    let tc = |t: &str, f: &str| Timecode::parse_field(t, f);
    let mut o = ClipOptions::default();
    o.start = tc(&a.start, "--start")?;
    o.end = a.end.as_deref().map(|t| tc(t, "--end")).transpose()?;
    o.duration = a
        .duration
        .as_deref()
        .map(|t| tc(t, "--duration"))
        .transpose()?;
    o.fade_in = tc(&a.fade_in, "--fade-in")?;
    o.fade_out = tc(&a.fade_out, "--fade-out")?;
    o.fade_curve = a.fade_curve;
    o.channels = a.channels;
    o.loudness_lufs = number_or_off(&a.loudness, "--loudness", "LUFS")?;
    o.loudness_ref = a.loudness_ref;
    o.true_peak_dbtp = number_or_off(&a.true_peak, "--true-peak", "dBTP")?;
    o.sample_rate = a.sample_rate;
    o.wav_bits = a.bits;
    o.bitrate = a.bitrate.map(Bitrate::bps);
    o.max_bytes = a.max_bytes;
    o.title = a.title.clone();
    o.artist = a.artist.clone();
    o.album = a.album.clone();
    o.picture = a.picture.clone();
    Ok(o)
}

/// `--jobs`: a whole number of at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{text}` is not a number of stickers at a time (1 or more)"
        )),
    }
}
