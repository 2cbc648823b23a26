"""Policy base classes (stand-in of gr00t/policy/policy.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class BasePolicy(ABC):
    def __init__(self, *, strict: bool = True):
        self.strict = strict

    @abstractmethod
    def check_observation(self, observation: dict[str, Any]) -> None: ...

    @abstractmethod
    def check_action(self, action: dict[str, Any]) -> None: ...

    @abstractmethod
    def _get_action(
        self, observation: dict[str, Any], options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]: ...

    def get_action(
        self, observation: dict[str, Any], options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        # Mirrors policy.py BasePolicy.get_action: checks only when strict, around _get_action.
        if self.strict:
            self.check_observation(observation)
        action, info = self._get_action(observation, options)
        if self.strict:
            self.check_action(action)
        return action, info

    @abstractmethod
    def reset(self, options: dict[str, Any] | None = None) -> dict[str, Any]: ...


class PolicyWrapper(BasePolicy):
    def __init__(self, policy: BasePolicy, *, strict: bool = True):
        super().__init__(strict=strict)
        self.policy = policy

    def reset(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        # Mirrors policy.py PolicyWrapper.reset: forwarded to the wrapped policy.
        return self.policy.reset(options)
