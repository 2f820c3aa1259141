//! Server-sent events as `@mastra/client-js` reads them (wire-contract §7): the body is cut
//! into blocks at blank lines; a block's `data:` lines hold one JSON value; `data: [DONE]`
//! ends the stream; comments (`: heartbeat`) and other fields are ignored (an `id:` line is
//! kept, for the browser route).

use crate::error::ClientError;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use std::collections::VecDeque;
use std::time::Duration;

/// One item of an SSE body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A block with data: its `data:` lines joined by `\n`, and its `id:` if any.
    Data {
        /// The data (one JSON value for Mastra's routes).
        data: String,
        /// The block's `id:` field.
        id: Option<String>,
    },
    /// `data: [DONE]`: the server ended the stream on purpose.
    Done,
}

/// An incremental parser: feed it bytes as they arrive, take the complete items out.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes and returns the items they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseItem>, ClientError> {
        // `\r\n` and `\n` both end a line; JSON escapes any `\r` inside a value.
        self.buffer
            .extend(bytes.iter().copied().filter(|&b| b != b'\r'));
        let mut items = Vec::new();
        while let Some(end) = find_blank_line(&self.buffer) {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = std::str::from_utf8(&block[..end])
                .map_err(|error| ClientError::Decode(format!("SSE block is not UTF-8: {error}")))?;
            if let Some(item) = parse_block(text) {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// Whether bytes of an unfinished block are waiting.
    pub fn has_partial_block(&self) -> bool {
        self.buffer.iter().any(|b| !b.is_ascii_whitespace())
    }
}

fn find_blank_line(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|pair| pair == b"\n\n")
}

fn parse_block(block: &str) -> Option<SseItem> {
    let mut data: Option<String> = None;
    let mut id = None;
    for line in block.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => match data.as_mut() {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            "id" => id = Some(value.to_owned()),
            _ => {}
        }
    }
    let data = data?;
    if data == "[DONE]" {
        return Some(SseItem::Done);
    }
    Some(SseItem::Data { data, id })
}

/// The items of a response body, in order; a body that breaks off, or sends nothing for
/// `idle`, is an error item. The stream ends after `[DONE]` or at the end of the body.
pub fn sse_items(
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    idle: Duration,
) -> BoxStream<'static, Result<SseItem, ClientError>> {
    let reader = BodyReader {
        body,
        idle,
        parser: SseParser::new(),
        ready: VecDeque::new(),
        ended: false,
    };
    futures::stream::unfold(reader, |mut reader| async move {
        reader.next_item().await.map(|item| (item, reader))
    })
    .boxed()
}

struct BodyReader {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    idle: Duration,
    parser: SseParser,
    ready: VecDeque<SseItem>,
    ended: bool,
}

impl BodyReader {
    async fn next_item(&mut self) -> Option<Result<SseItem, ClientError>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                if item == SseItem::Done {
                    self.ended = true;
                    self.ready.clear();
                }
                return Some(Ok(item));
            }
            if self.ended {
                return None;
            }
            let next = tokio::time::timeout(self.idle, self.body.next()).await;
            let failure = match next {
                Ok(Some(Ok(bytes))) => match self.parser.push(&bytes) {
                    Ok(items) => {
                        self.ready.extend(items);
                        continue;
                    }
                    Err(error) => error,
                },
                Ok(Some(Err(error))) => ClientError::Transport(error),
                Ok(None) => return None,
                Err(_) => ClientError::Idle(self.idle),
            };
            self.ended = true;
            return Some(Err(failure));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: &str) -> SseItem {
        SseItem::Data {
            data: text.into(),
            id: None,
        }
    }

    #[test]
    fn blocks_split_anywhere_parse_the_same() {
        let body = b": heartbeat\n\ndata: {\"a\":1}\n\nid: 7\ndata: {\"b\":2}\n\nevent: x\nretry: 5\n\ndata: [DONE]\n\n";
        for cut in 0..body.len() {
            let mut parser = SseParser::new();
            let mut items = parser.push(&body[..cut]).unwrap();
            items.extend(parser.push(&body[cut..]).unwrap());
            assert_eq!(
                items,
                vec![
                    data("{\"a\":1}"),
                    SseItem::Data {
                        data: "{\"b\":2}".into(),
                        id: Some("7".into())
                    },
                    SseItem::Done,
                ],
                "cut at {cut}"
            );
            assert!(!parser.has_partial_block());
        }
    }

    #[test]
    fn crlf_multiline_data_and_partial_blocks() {
        let mut parser = SseParser::new();
        let items = parser
            .push(b"data:x\r\ndata: y\r\n\r\ndata: {\"c\"")
            .unwrap();
        assert_eq!(items, vec![data("x\ny")]);
        assert!(parser.has_partial_block());
    }
}
