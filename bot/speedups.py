"""Speed fixes for Rasa internals that our profile found (docs/performance.md), with the same
results as Rasa's own code.

* Event lookup: Rasa 3.6 finds an event's class by walking every subclass of `Event` (with an
  `isabstract` check each) for every event it deserialises: about a quarter of a turn's time at
  turn 30, growing with the conversation. `install_event_lookup()` memoises it by type name;
  only names that resolve are cached, never a default.
* Model loading: to build a TensorFlow model's weights before loading them, Rasa fits it on one
  example, which traces the whole training graph, gradients and optimizer included, as a
  `tf.function`: about 45 of the 58 s that Rasa took to start on this 2-core machine, and some
  380 MB that stay resident. `install_fast_model_load()` builds the same weights by computing
  the training loss once, eagerly, then loads them as before; prediction still runs as a traced
  graph. Fine-tuning and models configured with `run_eagerly` go through Rasa's code unchanged.
  tests/test_speedups.py checks that both loads predict the same.
* Action server answers: Rasa validates each one with `jsonschema.validate`, which first checks
  Rasa's (large, constant) schema against the JSON Schema metaschema and builds a new validator:
  about 40 ms per custom action call, 12 % of Rasa's CPU under our load benchmark.
  `install_action_validation_cache()` checks the schema once and keeps the validator; the same
  answers pass, the same errors are raised with Rasa's message.
* Outvoted TED: Rasa runs every policy for every prediction, then picks the most confident, the
  higher priority on a tie. When RulePolicy (the highest priority) is certain, no other policy
  can win, yet TEDPolicy still spent about 5 ms of TensorFlow per prediction (two per turn: a
  third of a turn's time). `install_outvoted_policy_skip()` lets TEDPolicy return an empty
  prediction then; the ensemble picks the same action with the same confidence and events. Not
  when the last action was rejected (the ensemble then zeroes that action in every prediction)
  and never for a TED that can predict end-to-end from text, which would overrule the rule.
  (MemoizationPolicy runs before RulePolicy in Rasa's graph, so it cannot be spared this way.)

`install()` installs all four, once, from the Rasa entry point `python -m bot.rasa_server`
(bot/rasa_server.py; `make run`, the tests and the benchmarks start Rasa that way). They are
written for one Rasa release: on any other, or with VONR_SPEEDUPS=0, `install()` logs why and
leaves Rasa as it is. Training (`python -m rasa train`) runs pure Rasa, as it always has.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import rasa
from rasa.shared.core.events import Event

RASA_VERSION = "3.6.21"  # the release whose private API these patch (and that the test proves)
log = logging.getLogger("vonr.speedups")

_ORIGINAL_RESOLVE = Event.resolve_by_type
_BY_NAME: dict[str, type[Event]] = {}


def _resolve_by_type(type_name: str, default: Any = None) -> type[Event] | None:
    cls = _BY_NAME.get(type_name)
    if cls is None:
        cls = _ORIGINAL_RESOLVE(type_name, default)
        if cls is not None and getattr(cls, "type_name", None) == type_name:
            _BY_NAME[type_name] = cls
    return cls


def install_event_lookup() -> None:
    """Idempotent."""
    Event.resolve_by_type = staticmethod(_resolve_by_type)


def install_fast_model_load() -> None:
    """Idempotent. Imports TensorFlow: call it only where Rasa's models are loaded."""
    from rasa.utils.tensorflow.constants import RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
    from rasa.utils.tensorflow.models import RasaModel

    original = RasaModel.__dict__["load"]
    if getattr(original, "vonr_fast", False):
        return

    def load(cls: type[RasaModel], model_file_name: str, model_data_example: Any,
             predict_data_example: Any = None, finetune_mode: bool = False, *args: Any,
             **kwargs: Any) -> RasaModel:
        if finetune_mode or kwargs.get("config", {}).get(RUN_EAGERLY):
            return original.__func__(cls, model_file_name, model_data_example,
                                     predict_data_example, finetune_mode, *args, **kwargs)
        # Rasa's RasaModel.load builds the weights with a traced training step; the training
        # loss computed once, eagerly, builds the same weights without tracing anything. No
        # optimizer: predictions do not need its state, so that part of the file stays unread.
        model = cls(*args, **kwargs)
        batch = RasaBatchDataGenerator(model_data_example, batch_size=1)[0][0]
        model._training = True
        model.batch_loss(batch)
        model._training = None
        model.load_weights(model_file_name).expect_partial()
        if predict_data_example:
            model.run_inference(predict_data_example)  # traces the prediction graph now
        return model

    load.vonr_fast = True  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load)


def install_action_validation_cache() -> None:
    """Idempotent."""
    from jsonschema import ValidationError, validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction._validate_action_result, "vonr_fast", False):
        return
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def validate(self: RemoteAction, result: dict[str, Any]) -> bool:
        error: ValidationError | None = best_match(validator.iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                "from the Action endpoint is valid. For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error
        return True

    validate.vonr_fast = True  # type: ignore[attr-defined]
    validate.vonr_original = RemoteAction._validate_action_result  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate


_RULE_DECIDED = "_vonr_rule_decided"


def _tracker_state(tracker: Any) -> tuple[int, int]:
    """Identifies the tracker object and the state it is in: events are only ever appended."""
    events = tracker.events
    return len(events), id(events[-1]) if events else 0


def install_outvoted_policy_skip() -> None:
    """Idempotent. RulePolicy runs before TEDPolicy in Rasa's prediction graph; were the order
    ever different, TED would simply predict as usual (tests/test_speedups.py checks it skips)."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
    from rasa.shared.nlu.constants import TEXT

    rule_predict = RulePolicy.__dict__["predict_action_probabilities"]
    if getattr(rule_predict, "vonr_fast", False):
        return
    ted_predict = TEDPolicy.__dict__["predict_action_probabilities"]

    def rule(self: RulePolicy, tracker: Any, domain: Any, *args: Any, **kwargs: Any) -> Any:
        prediction = rule_predict(self, tracker, domain, *args, **kwargs)
        last_action = next((e for e in reversed(tracker.events)
                            if isinstance(e, (ActionExecutionRejected, ActionExecuted))), None)
        certain = (prediction.max_confidence >= 1.0
                   and not isinstance(last_action, ActionExecutionRejected))
        tracker.__dict__[_RULE_DECIDED] = _tracker_state(tracker) if certain else None
        return prediction

    def ted(self: TEDPolicy, tracker: Any, domain: Any, *args: Any, **kwargs: Any) -> Any:
        if (tracker.__dict__.get(_RULE_DECIDED) == _tracker_state(tracker)
                and TEXT not in getattr(self, "fake_features", {TEXT: None})):
            return self._prediction(self._default_predictions(domain))
        return ted_predict(self, tracker, domain, *args, **kwargs)

    rule.vonr_fast = True  # type: ignore[attr-defined]
    RulePolicy.predict_action_probabilities = rule
    TEDPolicy.predict_action_probabilities = ted


def install() -> bool:
    """All four speedups, if this is the Rasa release they were written for and VONR_SPEEDUPS is
    not "0"; whether they are installed. Idempotent."""
    if os.environ.get("VONR_SPEEDUPS", "1").strip() == "0":
        log.warning("speedups off (VONR_SPEEDUPS=0): running pure Rasa")
        return False
    if rasa.__version__ != RASA_VERSION:
        log.warning("speedups not installed: written for Rasa %s, this is Rasa %s; running pure "
                    "Rasa", RASA_VERSION, rasa.__version__)
        return False
    install_event_lookup()
    install_fast_model_load()
    install_action_validation_cache()
    install_outvoted_policy_skip()
    log.info("speedups installed for Rasa %s", RASA_VERSION)
    return True
