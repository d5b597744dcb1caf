use leptos::prelude::*;

/// The colour scheme the user asked for; `System` follows the OS setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            Self::System => "◐",
            Self::Light => "☀",
            Self::Dark => "☾",
        }
    }
}

/// A button that cycles system → light → dark and remembers the choice in this browser.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let (theme, set_theme) = signal(Theme::System);
    // Effects run only in the browser: read the stored choice once hydrated.
    Effect::new(move |_| set_theme.set(browser::stored()));

    let cycle = move |_| {
        let next = theme.get_untracked().next();
        browser::apply(next);
        set_theme.set(next);
    };
    view! {
        <button
            type="button"
            class="theme-toggle"
            data-theme-choice=move || theme.get().name()
            title=move || format!("Theme: {} (click to change)", theme.get().name())
            on:click=cycle
        >
            <span aria-hidden="true">{move || theme.get().icon()}</span>
            <span class="theme-name">{move || format!("Theme: {}", theme.get().name())}</span>
        </button>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Theme;
    use leptos::prelude::{document, window};

    /// The storage key, shared with the boot script in the shell.
    const KEY: &str = "portico-theme";

    pub fn stored() -> Theme {
        let stored = window()
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(KEY).ok().flatten());
        match stored.as_deref() {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::System,
        }
    }

    pub fn apply(theme: Theme) {
        let storage = window().local_storage().ok().flatten();
        let root = document().document_element();
        match theme {
            Theme::System => {
                if let Some(s) = storage {
                    let _ = s.remove_item(KEY);
                }
                if let Some(root) = root {
                    let _ = root.remove_attribute("data-theme");
                }
            }
            Theme::Light | Theme::Dark => {
                if let Some(s) = storage {
                    let _ = s.set_item(KEY, theme.name());
                }
                if let Some(root) = root {
                    let _ = root.set_attribute("data-theme", theme.name());
                }
            }
        }
    }
}

/// On the server there is no browser storage: the page renders with the OS default.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use super::Theme;

    pub fn stored() -> Theme {
        Theme::System
    }

    pub fn apply(_: Theme) {}
}
