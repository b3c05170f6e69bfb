//! Cover art: loading, fitting to the sticker canvas, the sticker look, audio features, animation
//! styles, and the image encoders with byte-cap fitting.
//!
//! Public as a namespace for tools that work on sticker images: an [`Animation`] is encoded by the
//! [`Codec`] of its format ([`codec()`]), fitted under a byte cap by [`fit()`], decoded back by
//! [`decode`], and compared with its render by [`ssim`] / [`mean_ssim`].

pub(crate) mod canvas;
pub(crate) mod encode;
pub mod fallback;
pub(crate) mod features;
pub(crate) mod fit;
pub(crate) mod load;
pub(crate) mod quality;
pub(crate) mod shape;
pub(crate) mod styles;

pub use canvas::{Background, Fit};
pub use encode::webm::Threads;
pub use encode::{Animation, Codec, DecodedFrames, codec};
pub use fit::{EncodeSettings, Fitted, SSIM_WARNING, Stop, decode, decode_where, encode_once, fit};
pub use quality::{mean_ssim, ssim};
pub use shape::Shape;
pub use styles::Style;
