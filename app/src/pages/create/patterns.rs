//! The `pattern` keyword where the form is checked.
//!
//! JSON Schema patterns are ECMAScript regular expressions, so the browser hands them to
//! its own `RegExp` (with the `u` flag, as JSON Schema validators do): no regular
//! expression engine is shipped in the bundle. The server renders the same form with the
//! `regex` crate, which is what it checks the values with before a run.

use portico_forms::PatternMatcher;

/// The matcher of wherever this code runs.
pub struct Patterns;

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = RegExp)]
        pub type JsRegExp;

        /// Throws (here: returns the error) when the pattern is not valid.
        #[wasm_bindgen(constructor, js_class = "RegExp", catch)]
        pub fn new(pattern: &str, flags: &str) -> Result<JsRegExp, JsValue>;

        #[wasm_bindgen(method)]
        pub fn test(this: &JsRegExp, text: &str) -> bool;

        #[wasm_bindgen(js_name = Error)]
        type JsError;

        #[wasm_bindgen(method, getter)]
        fn message(this: &JsError) -> String;
    }

    pub fn is_match(pattern: &str, text: &str) -> Result<bool, String> {
        JsRegExp::new(pattern, "u")
            .map(|re| re.test(text))
            .map_err(|e| {
                let why = e
                    .dyn_ref::<JsError>()
                    .map(JsError::message)
                    .unwrap_or_else(|| "not a valid regular expression".to_owned());
                format!("the pattern {pattern:?} is not valid: {why}")
            })
    }
}

impl PatternMatcher for Patterns {
    fn is_match(&self, pattern: &str, text: &str) -> Result<bool, String> {
        #[cfg(feature = "hydrate")]
        {
            browser::is_match(pattern, text)
        }
        #[cfg(all(feature = "ssr", not(feature = "hydrate")))]
        {
            portico_core::templates::ServerPatterns.is_match(pattern, text)
        }
        // A build with neither (`cargo check` of the library alone) checks no patterns.
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            let _ = (pattern, text);
            Ok(true)
        }
    }
}
