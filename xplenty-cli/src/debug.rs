//! `--debug`: one line on stderr per call the client makes, from its `xplenty.call` span
//! (operation, method, path template, status, attempts, time) and the rate-limit figures
//! the client kept, plus a line per retry decision. The spans carry no secret, and
//! nothing else (no header, no URL with credentials) is printed.

use std::fmt::Write as _;
use std::sync::OnceLock;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// The client of this run, for the rate-limit figures of each call's last answer.
static CLIENT: OnceLock<xplenty_api::Client> = OnceLock::new();

/// Turns the debug view on.
pub fn init() {
    let _ = tracing_subscriber::registry().with(DebugLayer).try_init();
}

/// Called with the client once it is built (only read when `--debug` is on).
pub fn client(client: &xplenty_api::Client) {
    let _ = CLIENT.set(client.clone());
}

/// The fields of a span or event, in the order they were set.
#[derive(Default)]
struct Fields(Vec<(&'static str, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name(), value.to_owned()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name(), value.to_string()));
    }
}

struct DebugLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for DebugLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "xplenty.call" {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !event.metadata().target().starts_with("xplenty") {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let operation = ctx
            .event_span(event)
            .and_then(|span| span.extensions().get::<Fields>().and_then(|f| f.get("operation").map(str::to_owned)))
            .unwrap_or_default();
        let mut line = format!("debug: {operation}");
        match fields.get("message") {
            Some("retrying") => {
                let _ = write!(
                    line,
                    ": attempt {} failed ({}); retrying in {} ms",
                    fields.get("attempt").unwrap_or("?"),
                    fields.get("failure").unwrap_or("?"),
                    fields.get("delay_ms").unwrap_or("?"),
                );
            }
            message => {
                let _ = write!(line, ": {}", message.unwrap_or(""));
                for (name, value) in fields.0.iter().filter(|(n, _)| *n != "message") {
                    let _ = write!(line, " {name}={value}");
                }
            }
        }
        crate::rt::note(line);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let extensions = span.extensions();
        let Some(fields) = extensions.get::<Fields>() else { return };
        let get = |name: &str| fields.get(name).unwrap_or("?");
        let mut line = format!(
            "debug: {} {} {} -> {}, attempt {}, {} ms",
            get("operation"),
            get("method"),
            get("path"),
            fields.get("status").unwrap_or("no answer"),
            get("attempt"),
            get("duration_ms"),
        );
        if let Some(rate) = CLIENT.get().and_then(xplenty_api::Client::rate_limit) {
            let _ = write!(line, ", rate limit {} of {} left", rate.remaining, rate.limit);
        }
        crate::rt::note(line);
    }
}
