//! The web UI: in process (every page well-formed and reachable from the
//! navigation, sign-in, CSRF, roles, the flows behind each form) and in a
//! real headless Chromium (`browser`).

mod auth;
mod browser;
mod flows;
mod pages;
pub mod support;

use quick_xml::events::Event;

/// Panics unless `html` is well-formed XML (XHTML-style): every element
/// closed in order, attributes quoted, only XML's entities.
pub fn assert_well_formed(what: &str, html: &str) {
    let mut reader = quick_xml::Reader::from_str(html);
    let mut open: Vec<String> = Vec::new();
    loop {
        let at = reader.buffer_position();
        let context = || {
            let around = (at as usize).saturating_sub(80)..(at as usize + 80).min(html.len());
            html.char_indices().filter(|(i, _)| around.contains(i)).map(|(_, c)| c).collect::<String>()
        };
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                for a in e.attributes() {
                    if let Err(err) = a {
                        panic!("{what}: bad attribute at byte {at}: {err}\n…{}…", context());
                    }
                }
                open.push(AsRef::<str>::as_ref(&e.name()).to_owned());
            }
            Ok(Event::End(e)) => {
                let name = AsRef::<str>::as_ref(&e.name()).to_owned();
                assert_eq!(
                    open.pop().as_deref(),
                    Some(name.as_str()),
                    "{what}: mismatched </{name}> at byte {at}\n…{}…",
                    context()
                );
            }
            Ok(Event::Empty(e)) => {
                for a in e.attributes() {
                    if let Err(err) = a {
                        panic!("{what}: bad attribute at byte {at}: {err}\n…{}…", context());
                    }
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.into_inner().into_owned();
                assert!(
                    ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str()) || name.starts_with('#'),
                    "{what}: entity &{name}; is not XML (use a character reference)\n…{}…",
                    context()
                );
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{what}: not well-formed at byte {at}: {e}\n…{}…", context()),
        }
    }
    assert!(open.is_empty(), "{what}: unclosed elements at the end: {open:?}");
}
