//! Pieces shared by pages: the frame and small widgets.

pub mod connection;
pub mod layout;
pub mod theme_toggle;
pub mod user_menu;
pub mod viewers;
