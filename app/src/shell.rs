use leptos::prelude::*;
use leptos_meta::MetaTags;

use crate::live::{LogPosition, POSITION_META};
use crate::App;

/// Runs before the first paint: applies the theme the user chose earlier, so a dark
/// page never flashes light. Without a stored choice the CSS follows the OS setting.
const THEME_BOOT: &str = r#"try{var t=localStorage.getItem("portico-theme");if(t==="light"||t==="dark"){document.documentElement.dataset.theme=t}}catch(e){}"#;

/// The whole HTML document the server sends for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let position = use_context::<LogPosition>()
        .map(|LogPosition(id)| view! { <meta name=POSITION_META content=id.to_string() /> });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <script inner_html=THEME_BOOT></script>
                <link rel="icon" href="/favicon.ico" />
                {position}
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}
