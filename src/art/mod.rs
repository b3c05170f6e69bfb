//! Cover art: loading, fitting to the sticker canvas, the sticker look, audio features, animation
//! styles, and the image encoders with byte-cap fitting.

pub mod canvas;
pub mod encode;
pub mod features;
pub mod fit;
pub mod load;
pub mod quality;
pub mod shape;
pub mod styles;

pub use canvas::{Background, Fit};
pub use encode::{Animation, DecodedFrames};
pub use fit::{EncodeSettings, Fitted, SSIM_WARNING, Stop, decode, decode_where, encode_once, fit};
pub use quality::{mean_ssim, ssim};
pub use shape::Shape;
pub use styles::Style;
