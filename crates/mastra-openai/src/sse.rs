//! A server-sent events parser: network chunks in, the `data` of each complete event out.
//!
//! Follows the EventSource rules: lines end with `\n`, `\r\n` or `\r` (even when split across
//! chunks), `data:` lines of one event are joined with `\n`, a blank line ends the event,
//! `:` lines are comments and other fields (`event:`, `id:`, `retry:`) are ignored.

use mastra_core::ModelError;

/// No line of a chat completion stream comes near this; a longer one means a broken server.
const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// The unfinished line carried over from earlier chunks.
    line: Vec<u8>,
    /// The `data` of the event being read, if it has any `data:` line yet.
    data: Option<String>,
    /// The previous chunk ended in `\r`, so a leading `\n` belongs to that line ending.
    after_cr: bool,
    started: bool,
}

impl SseParser {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Reads one network chunk, appending the data of every event it completes to `events`.
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        events: &mut Vec<String>,
    ) -> Result<(), ModelError> {
        let mut start = 0;
        for (i, &byte) in chunk.iter().enumerate() {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                start = i + 1;
                continue;
            }
            if byte == b'\n' || byte == b'\r' {
                self.line.extend_from_slice(&chunk[start..i]);
                self.after_cr = byte == b'\r';
                start = i + 1;
                let line = std::mem::take(&mut self.line);
                self.on_line(&line, events)?;
            }
        }
        self.line.extend_from_slice(&chunk[start..]);
        if self.line.len() > MAX_LINE_BYTES {
            return Err(ModelError::Malformed(format!(
                "event stream line longer than {MAX_LINE_BYTES} bytes"
            )));
        }
        Ok(())
    }

    /// At the end of the body: the data of an event whose lines were complete but that was not
    /// closed by a blank line. An unfinished last line was cut off and is dropped.
    pub(crate) fn finish(&mut self) -> Option<String> {
        self.line.clear();
        self.data.take()
    }

    fn on_line(&mut self, line: &[u8], events: &mut Vec<String>) -> Result<(), ModelError> {
        let line = std::str::from_utf8(line)
            .map_err(|e| ModelError::Malformed(format!("event stream is not UTF-8: {e}")))?;
        let line = if self.started {
            line
        } else {
            self.started = true;
            line.strip_prefix('\u{feff}').unwrap_or(line)
        };
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                events.push(data);
            }
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        if field == "data" {
            match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &[u8], piece: usize) -> Vec<String> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in input.chunks(piece) {
            parser.feed(chunk, &mut events).unwrap();
        }
        events.extend(parser.finish());
        events
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let input = ": keep-alive\r\n\r\ndata: {\"a\":\"é\"}\r\n\r\nevent: x\nid: 7\ndata: b\n\ndata: [DONE]\n\n";
        let expected = vec![r#"{"a":"é"}"#.to_owned(), "b".into(), "[DONE]".into()];
        for piece in 1..input.len() {
            assert_eq!(
                parse_in_pieces(input.as_bytes(), piece),
                expected,
                "piece {piece}"
            );
        }
    }

    #[test]
    fn lone_cr_and_multi_line_data() {
        let input = b"data: one\rdata:two\r\rdata: three\n\n";
        for piece in 1..input.len() {
            assert_eq!(
                parse_in_pieces(input, piece),
                vec!["one\ntwo".to_owned(), "three".into()]
            );
        }
    }

    #[test]
    fn unterminated_last_line_is_dropped_but_complete_data_is_kept() {
        assert_eq!(
            parse_in_pieces(b"data: {\"partial", 4),
            Vec::<String>::new()
        );
        assert_eq!(
            parse_in_pieces(b"data: [DONE]\n", 4),
            vec!["[DONE]".to_owned()]
        );
    }

    #[test]
    fn bom_and_field_without_colon() {
        let input = "\u{feff}data: x\ndata\n\n";
        assert_eq!(parse_in_pieces(input.as_bytes(), 3), vec!["x\n".to_owned()]);
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        let mut parser = SseParser::new();
        let result = parser.feed(b"data: \xff\n\n", &mut Vec::new());
        assert!(matches!(result, Err(ModelError::Malformed(_))));
    }
}
