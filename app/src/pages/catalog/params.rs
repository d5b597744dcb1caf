//! The catalog table's state as it lives in the URL (`/catalog?kind=component&q=pay&owner=team-a`):
//! kind tab, search words, facet filters, sort and page cursor. Parsed and written the
//! same way in the browser and on the server, so every view is a link.

/// Facets the table filters by: URL parameter, catalog field, label.
pub const FACETS: &[(&str, &str, &str)] = &[
    ("type", "spec.type", "Type"),
    ("owner", "spec.owner", "Owner"),
    ("lifecycle", "spec.lifecycle", "Lifecycle"),
    ("tag", "metadata.tags", "Tags"),
    ("system", "spec.system", "System"),
    ("namespace", "metadata.namespace", "Namespace"),
];

/// Columns the table sorts by: URL value, catalog field.
pub const SORTS: &[(&str, &str)] = &[
    ("name", "metadata.name"),
    ("owner", "spec.owner"),
    ("type", "spec.type"),
    ("lifecycle", "spec.lifecycle"),
    ("system", "spec.system"),
];

/// What "all kinds" is written as.
pub const ALL_KINDS: &str = "all";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatalogParams {
    /// The kind tab, lower-cased; `None` is the default tab (components).
    pub kind: Option<String>,
    /// Search words.
    pub q: String,
    /// Chosen values per facet parameter, in [`FACETS`] order.
    pub filters: Vec<(&'static str, Vec<String>)>,
    /// A [`SORTS`] name, `-` in front for descending; `None`: best match when
    /// searching, name otherwise.
    pub sort: Option<String>,
    pub cursor: Option<String>,
}

impl CatalogParams {
    /// From a query string, with or without the leading `?`. Unknown parameters are
    /// ignored; repeated or comma-separated facet values add up.
    pub fn parse(search: &str) -> Self {
        let mut params = Self::default();
        let search = search.strip_prefix('?').unwrap_or(search);
        for (key, raw) in form_urlencoded::parse(search.as_bytes()) {
            let value = raw.trim();
            match key.as_ref() {
                "kind" if !value.is_empty() => params.kind = Some(value.to_lowercase()),
                // As typed (see `with_query`).
                "q" => params.q = raw.into_owned(),
                "sort" if !value.is_empty() => params.sort = Some(value.to_owned()),
                "cursor" if !value.is_empty() => params.cursor = Some(value.to_owned()),
                other => {
                    let Some((param, _, _)) = FACETS.iter().find(|(p, _, _)| *p == other) else {
                        continue;
                    };
                    for item in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                        params.toggle_in_place(param, item, true);
                    }
                }
            }
        }
        params
    }

    /// The query string (without `?`), parameters in a stable order.
    pub fn to_search(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if let Some(kind) = &self.kind {
            out.append_pair("kind", kind);
        }
        if !self.q.is_empty() {
            out.append_pair("q", &self.q);
        }
        for (param, values) in &self.filters {
            if !values.is_empty() {
                out.append_pair(param, &values.join(","));
            }
        }
        if let Some(sort) = &self.sort {
            out.append_pair("sort", sort);
        }
        if let Some(cursor) = &self.cursor {
            out.append_pair("cursor", cursor);
        }
        out.finish()
    }

    /// `/catalog?…`
    pub fn href(&self) -> String {
        let search = self.to_search();
        if search.is_empty() {
            "/catalog".to_owned()
        } else {
            format!("/catalog?{search}")
        }
    }

    /// The kind tab shown: `component` unless the URL says otherwise.
    pub fn kind_tab(&self) -> &str {
        self.kind.as_deref().unwrap_or("component")
    }

    pub fn values(&self, param: &str) -> &[String] {
        self.filters
            .iter()
            .find(|(p, _)| *p == param)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    fn toggle_in_place(&mut self, param: &'static str, value: &str, only_add: bool) {
        let index = match self.filters.iter().position(|(p, _)| *p == param) {
            Some(i) => i,
            None => {
                self.filters.push((param, Vec::new()));
                // Keep FACETS order so equal states give equal URLs.
                let order = |p: &str| FACETS.iter().position(|(f, _, _)| *f == p);
                self.filters.sort_by_key(|(p, _)| order(p));
                self.filters
                    .iter()
                    .position(|(p, _)| *p == param)
                    .expect("just added")
            }
        };
        let values = &mut self.filters[index].1;
        match values.iter().position(|v| v.eq_ignore_ascii_case(value)) {
            Some(i) if !only_add => {
                values.remove(i);
            }
            Some(_) => {}
            None => values.push(value.to_owned()),
        }
        self.filters.retain(|(_, v)| !v.is_empty());
    }

    // Every change below starts again at the first page: the cursor belongs to the old view.

    /// With `value` chosen for facet `param` when it was not, and not when it was.
    pub fn with_toggled(&self, param: &'static str, value: &str) -> Self {
        let mut next = Self {
            cursor: None,
            ..self.clone()
        };
        next.toggle_in_place(param, value, false);
        next
    }

    /// Another kind tab: facet choices of the old kind rarely apply, so they go.
    pub fn with_kind(&self, kind: &str) -> Self {
        Self {
            kind: Some(kind.to_lowercase()),
            q: self.q.clone(),
            ..Self::default()
        }
    }

    /// The search box's text as typed: trimming it here would take the space the user
    /// just typed out of the box. Searches ignore surrounding spaces.
    pub fn with_query(&self, q: &str) -> Self {
        Self {
            q: q.to_owned(),
            cursor: None,
            ..self.clone()
        }
    }

    /// Sorted by `column`, ascending first, descending when it already was ascending.
    pub fn with_sort(&self, column: &str) -> Self {
        let sort = match self.sort.as_deref() {
            Some(current) if current == column => format!("-{column}"),
            None if column == "name" && !self.is_searching() => format!("-{column}"),
            _ => column.to_owned(),
        };
        Self {
            sort: Some(sort),
            cursor: None,
            ..self.clone()
        }
    }

    pub fn with_cursor(&self, cursor: Option<String>) -> Self {
        Self {
            cursor,
            ..self.clone()
        }
    }

    pub fn without_filters(&self) -> Self {
        Self {
            kind: self.kind.clone(),
            ..Self::default()
        }
    }

    /// `(column, descending)` of the sort in effect, `None` for best match.
    pub fn sort_order(&self) -> Option<(&'static str, bool)> {
        let sort = match &self.sort {
            Some(sort) => sort.as_str(),
            None if self.is_searching() => return None,
            None => "name",
        };
        let (name, descending) = match sort.strip_prefix('-') {
            Some(name) => (name, true),
            None => (sort, false),
        };
        SORTS
            .iter()
            .find(|(s, _)| *s == name)
            .map(|(s, _)| (*s, descending))
            .or(Some(("name", false)))
    }

    pub fn is_searching(&self) -> bool {
        !self.q.trim().is_empty()
    }

    pub fn is_filtered(&self) -> bool {
        self.is_searching() || !self.filters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip() {
        let params = CatalogParams::parse(
            "?kind=API&q=pay%20ments&owner=team-a,team-b&tag=java&sort=-owner&x=1",
        );
        assert_eq!(params.kind.as_deref(), Some("api"));
        assert_eq!(params.q, "pay ments");
        assert_eq!(params.values("owner"), ["team-a", "team-b"]);
        assert_eq!(params.sort_order(), Some(("owner", true)));
        assert_eq!(
            params.to_search(),
            "kind=api&q=pay+ments&owner=team-a%2Cteam-b&tag=java&sort=-owner"
        );
        assert_eq!(CatalogParams::parse(&params.to_search()), params);
        assert_eq!(CatalogParams::default().href(), "/catalog");
    }

    #[test]
    fn changes_restart_at_the_first_page() {
        let params = CatalogParams::parse("kind=component&cursor=abc&type=service");
        let toggled = params.with_toggled("type", "service");
        assert!(toggled.filters.is_empty() && toggled.cursor.is_none());
        let added = params.with_toggled("lifecycle", "production");
        assert_eq!(
            added.to_search(),
            "kind=component&type=service&lifecycle=production"
        );
        assert_eq!(params.with_kind("API").to_search(), "kind=api");
        assert_eq!(params.with_query("pay ").q, "pay ");
        assert!(!params.with_query("  ").is_searching());
        assert_eq!(
            params.with_cursor(Some("n".into())).cursor.as_deref(),
            Some("n")
        );
    }

    #[test]
    fn sorting_toggles_direction() {
        let params = CatalogParams::default();
        assert_eq!(params.sort_order(), Some(("name", false)));
        assert_eq!(params.with_sort("name").sort.as_deref(), Some("-name"));
        assert_eq!(params.with_sort("owner").sort.as_deref(), Some("owner"));
        let owner = params.with_sort("owner");
        assert_eq!(owner.with_sort("owner").sort.as_deref(), Some("-owner"));
        // Searching ranks best matches first unless a column was chosen.
        assert_eq!(params.with_query("pay").sort_order(), None);
        assert_eq!(
            params.with_query("pay").with_sort("name").sort_order(),
            Some(("name", false))
        );
    }
}
