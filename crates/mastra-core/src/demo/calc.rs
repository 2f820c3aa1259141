//! A small arithmetic evaluator for the demo calculator: `+ - * /`, parentheses, unary minus,
//! decimals. Recursive descent over bytes; errors are messages, never panics.

/// Evaluates `expression`, e.g. `2 * (3 + 4.5)`.
pub fn evaluate(expression: &str) -> Result<f64, String> {
    let mut parser = Parser {
        bytes: expression.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let value = parser.sum()?;
    parser.skip_spaces();
    if parser.pos != parser.bytes.len() {
        return Err(format!(
            "unexpected `{}` at position {}",
            parser.rest(),
            parser.pos + 1
        ));
    }
    if !value.is_finite() {
        return Err("the result is not a finite number".into());
    }
    Ok(value)
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.bytes[self.pos.min(self.bytes.len())..]).into_owned()
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut value = self.product()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.pos += 1;
            let rhs = self.product()?;
            value = if op == b'+' { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut value = self.factor()?;
        while let Some(op @ (b'*' | b'/' | b'x')) = self.peek() {
            self.pos += 1;
            let rhs = self.factor()?;
            if op == b'/' {
                if rhs == 0.0 {
                    return Err("division by zero".into());
                }
                value /= rhs;
            } else {
                value *= rhs;
            }
        }
        Ok(value)
    }

    fn factor(&mut self) -> Result<f64, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression is nested too deeply".into());
        }
        let value = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                self.factor().map(|v| -v)
            }
            Some(b'(') => {
                self.pos += 1;
                let value = self.sum()?;
                if self.peek() != Some(b')') {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(value)
            }
            Some(b'0'..=b'9' | b'.') => self.number(),
            Some(_) => Err(format!(
                "unexpected `{}` at position {}",
                self.rest(),
                self.pos + 1
            )),
            None => Err("unexpected end of expression".into()),
        };
        self.depth -= 1;
        value
    }

    fn number(&mut self) -> Result<f64, String> {
        let start = self.pos;
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_default();
        text.parse()
            .map_err(|_| format!("`{text}` is not a number"))
    }
}

#[cfg(test)]
mod tests {
    use super::evaluate;

    #[test]
    fn evaluates_with_precedence_and_parentheses() {
        assert_eq!(evaluate("2 + 3 * 4"), Ok(14.0));
        assert_eq!(evaluate("(2 + 3) * 4"), Ok(20.0));
        assert_eq!(evaluate("-3 + 10 / 4"), Ok(-0.5));
        assert_eq!(evaluate("1.5 x 2"), Ok(3.0));
    }

    #[test]
    fn reports_errors() {
        assert_eq!(evaluate("1 / 0"), Err("division by zero".into()));
        assert!(evaluate("2 +").is_err());
        assert!(evaluate("2 $ 3").is_err());
        assert!(evaluate("(1").is_err());
        assert!(evaluate(&"(".repeat(1000)).is_err());
    }
}
