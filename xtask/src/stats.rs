//! Median, minimum and maximum of repeated measurements, and how the reports print them.

/// The spread of one metric over repeated runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) runs: usize,
}

impl Spread {
    /// `None` for no values. The median of an even count is the mean of the middle two.
    pub(crate) fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n % 2 {
            1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
        })
    }

    /// `median [min, max]`, or the median alone when there was one run.
    pub(crate) fn show(&self) -> String {
        match self.runs {
            1 => number(self.median),
            _ => format!(
                "{} [{}, {}]",
                number(self.median),
                number(self.min),
                number(self.max)
            ),
        }
    }
}

/// A figure with three significant digits and thousands separators: `10,833`, `924`,
/// `58.3`, `2.94`, `0.355`.
pub(crate) fn number(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_owned();
    }
    let magnitude = x.abs();
    let decimals = match magnitude {
        m if m >= 100.0 => 0,
        m if m >= 10.0 => 1,
        m if m >= 1.0 => 2,
        _ => 3,
    };
    let text = format!("{x:.decimals$}");
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_owned(), Some(f.to_owned())),
        None => (text, None),
    };
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d.to_owned()),
        None => ("", int),
    };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A duration in nanoseconds, in the unit that suits it.
pub(crate) fn duration_ns(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{} s", number(n / 1e9)),
        n if n >= 1e6 => format!("{} ms", number(n / 1e6)),
        n if n >= 1e3 => format!("{} µs", number(n / 1e3)),
        n => format!("{} ns", number(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_counts() {
        let odd = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!(
            odd,
            Some(Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0,
                runs: 3
            })
        );
        let even = Spread::of(&[4.0, 1.0, 2.0, 3.0]).map(|s| s.median);
        assert_eq!(even, Some(2.5));
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[f64::NAN]), None);
    }

    #[test]
    fn numbers_keep_three_significant_digits() {
        assert_eq!(number(10_833.4), "10,833");
        assert_eq!(number(1_234_567.0), "1,234,567");
        assert_eq!(number(58.26), "58.3");
        assert_eq!(number(2.944), "2.94");
        assert_eq!(number(0.3556), "0.356");
        assert_eq!(number(-1500.0), "-1,500");
        assert_eq!(duration_ns(6_800_000.0), "6.80 ms");
        assert_eq!(duration_ns(880.0), "880 ns");
    }

    #[test]
    fn spread_shows_min_and_max_only_for_repeated_runs() {
        let one = Spread::of(&[5.0]).map(|s| s.show());
        assert_eq!(one.as_deref(), Some("5.00"));
        let three = Spread::of(&[5.0, 4.0, 6.0]).map(|s| s.show());
        assert_eq!(three.as_deref(), Some("5.00 [4.00, 6.00]"));
    }
}
