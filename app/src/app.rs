use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::layout::{Footer, Header};
use crate::components::user_menu::Me;
use crate::pages::admin::{audit::AuditPage, tokens::TokensPage};
use crate::pages::approvals::{detail::ApprovalPage, list::ApprovalsPage};
use crate::pages::catalog::{entity::EntityPage, list::CatalogPage};
use crate::pages::create::{
    editor::EditorPage, gallery::CreatePage, task::TaskPage, wizard::WizardPage,
};
use crate::pages::environments::{detail::EnvironmentPage, matrix::EnvironmentsPage};
use crate::pages::notifications::NotificationsPage;
use crate::pages::{home::HomePage, not_found::NotFound, status::StatusPage};

/// The application: the frame around every page, and the routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Me::provide();
    view! {
        <Stylesheet id="portico" href="/pkg/portico.css" />
        <Title formatter=|page: String| format!("{page} · Portico") />
        <Router>
            <Header />
            <main id="main" class="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("") view=HomePage />
                                        <Route path=path!("catalog") view=CatalogPage />
                                        // Rendered when its data is in, so that a missing entity answers 404.
                    <Route path=path!("catalog/:namespace/:kind/:name") view=EntityPage ssr=SsrMode::Async />
                    <Route path=path!("environments") view=EnvironmentsPage />
                    // Rendered when its data is in, so that a missing environment answers 404.
                    <Route path=path!("environments/:name") view=EnvironmentPage ssr=SsrMode::Async />
                    <Route path=path!("create") view=CreatePage />
                    <Route path=path!("create/edit") view=EditorPage ssr=SsrMode::Async />
                    // Rendered when their data is in, so that a missing template or run answers 404.
                    <Route path=path!("create/templates/:namespace/:name") view=WizardPage ssr=SsrMode::Async />
                    <Route path=path!("create/tasks/:id") view=TaskPage ssr=SsrMode::Async />
                    <Route path=path!("approvals") view=ApprovalsPage />
                    // Rendered when its data is in, so that a missing request answers 404.
                    <Route path=path!("approvals/:id") view=ApprovalPage ssr=SsrMode::Async />
                    <Route path=path!("notifications") view=NotificationsPage />
                    <Route path=path!("status") view=StatusPage />
                    <Route path=path!("admin/tokens") view=TokensPage />
                    <Route path=path!("admin/audit") view=AuditPage />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}
