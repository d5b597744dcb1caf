//! Who else is looking at the same page, from the live channel's presence.

use leptos::prelude::*;

use crate::live::use_presence;

/// Who else has this page open (shown once someone does).
#[component]
pub fn Viewers(topic: impl Fn() -> Option<String> + Send + Sync + 'static) -> impl IntoView {
    let viewers = use_presence(topic);
    move || {
        let viewers = viewers.get();
        (!viewers.is_empty()).then(|| {
            let names = viewers
                .into_iter()
                .map(|viewer| {
                    let tabs = (viewer.tabs > 1).then(|| format!(" ×{}", viewer.tabs));
                    view! { <li class="viewer">{viewer.name}{tabs}</li> }
                })
                .collect_view();
            view! {
                <section class="viewers" aria-label="Viewing now">
                    <span>"Viewing now:"</span>
                    <ul class="viewer-list" role="list">{names}</ul>
                </section>
            }
        })
    }
}
