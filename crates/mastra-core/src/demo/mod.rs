//! The built-in demo: a rule-based model and two tools, so that everything runs offline with
//! no API key.
//!
//! ```
//! use mastra_core::{demo, Agent, StreamOptions};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let agent = Agent::builder("demo", demo::DemoModel::new()).tools(demo::demo_tools()).build();
//! let out = agent.generate("calculate 2 * (3 + 4)", StreamOptions::new()).await.unwrap();
//! assert_eq!(out.text, "2 * (3 + 4) = 14");
//! assert_eq!(out.steps.len(), 2);
//! # }
//! ```

mod calc;
mod model;
mod tools;

pub use calc::evaluate;
pub use model::{DemoModel, FALLBACK_ANSWER, MAX_COUNT};
pub use tools::{
    calculator_tool, demo_tools, demo_weather, weather_tool, CalculatorInput, WeatherInput,
    WeatherReport,
};
