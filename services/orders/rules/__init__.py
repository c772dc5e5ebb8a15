"""Orders' rules without I/O: the state machine as data (`moves`), deadlines as data
(`deadlines`), prices with eligibility tiers and funder shares (`pricing`), and what an order
is made of when it is placed (`placing`)."""
