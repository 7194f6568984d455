"""Policy review (重大决策社会稳定风险评估): what past decisions did to disputes, and what a proposal may do.

Modules, in the order a review runs: history (records as counts by area,
week and family), effects (each past decision's matched
difference-in-differences with a placebo bootstrap), pooled (the
proposal's uplift from its type's analogues, with modifiers), analogues
(similar past decisions), scenario (baseline and scenario forecasts),
levels (the published rule), findings (the four dimensions), review (all
of it as one result), store (versioned storage), report (HTML and PDF).
The method and its assumptions: docs/adr/0010-policy-review-method.md.
"""
