//! Demo tools with deterministic answers: a weather lookup and a calculator.

use super::calc;
use crate::tool::{tool, SharedTool, ToolContext};
use crate::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Input of the weather tool.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WeatherInput {
    /// City name, e.g. "Paris".
    pub city: String,
}

/// The demo weather report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeatherReport {
    pub city: String,
    pub temperature_c: i32,
    pub conditions: String,
}

/// The weather a city "has" in the demo: derived from its name, the same on every call.
pub fn demo_weather(city: &str) -> WeatherReport {
    const CONDITIONS: [&str; 5] = ["sunny", "partly cloudy", "overcast", "light rain", "windy"];
    let seed = city.to_lowercase().bytes().fold(7u32, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u32::from(b))
    });
    WeatherReport {
        city: city.to_owned(),
        temperature_c: (seed % 35) as i32 - 5,
        conditions: CONDITIONS[(seed / 35) as usize % CONDITIONS.len()].to_owned(),
    }
}

/// `weather`: current weather for a city (demo data).
pub fn weather_tool() -> SharedTool {
    Arc::new(tool(
        "weather",
        "Get the current weather for a city",
        |input: WeatherInput, _ctx: ToolContext| async move {
            let city = input.city.trim();
            if city.is_empty() {
                return Err(ToolError::execution("city must not be empty"));
            }
            Ok(demo_weather(city))
        },
    ))
}

/// Input of the calculator tool.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CalculatorInput {
    /// Arithmetic expression with + - * / and parentheses, e.g. "2 * (3 + 4)".
    pub expression: String,
}

/// `calculator`: evaluates an arithmetic expression.
pub fn calculator_tool() -> SharedTool {
    Arc::new(tool(
        "calculator",
        "Evaluate an arithmetic expression with + - * / and parentheses",
        |input: CalculatorInput, _ctx: ToolContext| async move {
            calc::evaluate(&input.expression)
                .map(|result| serde_json::json!({"expression": input.expression, "result": result}))
                .map_err(ToolError::Execution)
        },
    ))
}

/// Both demo tools.
pub fn demo_tools() -> Vec<SharedTool> {
    vec![weather_tool(), calculator_tool()]
}
