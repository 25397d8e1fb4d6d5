"""The question's prior as objects, drawn from and evaluated in one place.

Each slot of the model's prior (``p_state``, ``p_base``, ``effect_mu``, ``effect_sd``)
is a :class:`Dist` (a family, its parameters per entry and the entries' dims: the
fields of a pymc-extras ``Prior``, which :meth:`Dist.to_prior` builds) or a
:class:`LinearPool` of two of them; :class:`Priors` holds the four. This module is
the one place that draws from a prior (NumPy) and evaluates its density,
distribution function, quantiles and mean (SciPy); :func:`forecast.elicit.constrain`
fits one to an elicited interval. The PyMC model creates its variables from the same
objects (:meth:`Dist.create_variable`, :meth:`LinearPool.create_variable`).

Why the objects are not pymc-extras ``Prior`` instances themselves: importing
pymc-extras imports PyMC and its own submodules, about 3 s, six times the 0.5 s a
news update may take (``make benchmark``), and the exact engine needs no PyMC. A
:class:`Dist` turns into a ``Prior`` and back without loss, and the tests check
these densities against PyMC's ``logp`` of the variable the ``Prior`` creates.

Examples
--------
>>> import numpy as np
>>> base = Dist("Beta", {"alpha": [6.0, 4.0], "beta": [3.0, 4.0]}, dims=("base",))
>>> base.size, round(base.mean(0), 4)
(2, 0.6667)
>>> base.entry(1).to_dict()
{'dist': 'Beta', 'kwargs': {'alpha': 4.0, 'beta': 4.0}}
>>> pool = LinearPool(base, base.with_entry(1, alpha=12.0, beta=4.0), [0.5, 0.5])
>>> round(pool.mean(1), 4)
0.625
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np

from forecast.config import DIST_PARAMS

#: The slots of a question's prior, in the order they are drawn.
SLOTS = ("p_state", "p_base", "effect_mu", "effect_sd")


def _array(value: Any) -> np.ndarray:
    out = np.array(value, dtype=float)
    out.setflags(write=False)
    return out


def _plain(x: np.ndarray) -> float | list[float]:
    return float(x) if x.ndim == 0 else [float(v) for v in x]


@dataclasses.dataclass(frozen=True, eq=False)
class Dist:
    """One slot's prior: a family and its parameters, one value per entry.

    ``parameters`` are arrays of one shape: 0-d for a scalar prior, one value per
    entry along ``dims`` (e.g. ``("base",)``) for a vector one.
    """

    distribution: str
    parameters: Mapping[str, np.ndarray]
    dims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.distribution not in DIST_PARAMS:
            raise ValueError(f"unknown distribution {self.distribution!r}; "
                             f"allowed: {sorted(DIST_PARAMS)}")
        if set(self.parameters) != set(DIST_PARAMS[self.distribution]):
            raise ValueError(f"{self.distribution} takes {DIST_PARAMS[self.distribution]}, "
                             f"got {sorted(self.parameters)}")
        arrays = {k: _array(self.parameters[k]) for k in DIST_PARAMS[self.distribution]}
        shapes = {a.shape for a in arrays.values()}
        if len(shapes) != 1:
            raise ValueError(f"{self.distribution} parameters differ in shape: {shapes}")
        object.__setattr__(self, "parameters", arrays)
        object.__setattr__(self, "dims", tuple(self.dims))

    # -- identity and conversion ---------------------------------------------------------
    @property
    def family(self) -> str:
        """The family (the same word for a :class:`LinearPool`'s components)."""
        return self.distribution

    @property
    def size(self) -> int:
        """How many entries (1 for a scalar prior)."""
        return int(np.size(next(iter(self.parameters.values()))))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Dist) and other.distribution == self.distribution
                and other.dims == self.dims
                and all(np.array_equal(self.parameters[k], other.parameters[k])
                        for k in self.parameters))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking arrays: compare, never hash

    def to_dict(self) -> dict[str, Any]:
        """The shape of pymc-extras' ``Prior.to_dict()`` (``dims`` only when there are any)."""
        out: dict[str, Any] = {"dist": self.distribution,
                               "kwargs": {k: _plain(v) for k, v in self.parameters.items()}}
        if self.dims:
            out["dims"] = self.dims
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dist:
        """From :meth:`to_dict`'s (``Prior.to_dict()``'s) shape."""
        return cls(data["dist"], dict(data["kwargs"]), tuple(data.get("dims") or ()))

    def to_prior(self):
        """This prior as a pymc-extras ``Prior`` (imports PyMC)."""
        from pymc_extras.prior import Prior

        kwargs = {k: (float(v) if v.ndim == 0 else np.array(v)) for k, v in
                  self.parameters.items()}
        return Prior(self.distribution, dims=self.dims or None, **kwargs)

    @classmethod
    def from_prior(cls, prior) -> Dist:
        """From a pymc-extras ``Prior`` with numeric parameters."""
        return cls(prior.distribution, {k: np.asarray(v, dtype=float)
                                        for k, v in prior.parameters.items()},
                   tuple(prior.dims or ()))

    def create_variable(self, name: str):
        """The PyMC variable of this prior (inside a model context), via ``Prior``."""
        return self.to_prior().create_variable(name)

    # -- entries -------------------------------------------------------------------------
    def entry(self, j: int) -> Dist:
        """Entry ``j`` as a scalar prior (a scalar prior's only entry is itself)."""
        return Dist(self.distribution, {k: v.reshape(-1)[j] for k, v in self.parameters.items()})

    def with_entry(self, j: int, **parameters: float) -> Dist:
        """A copy with entry ``j``'s parameters replaced."""
        new = {}
        for k, v in self.parameters.items():
            a = np.array(v, dtype=float)
            a.reshape(-1)[j] = parameters.get(k, a.reshape(-1)[j])
            new[k] = a
        return Dist(self.distribution, new, self.dims)

    @classmethod
    def stack(cls, entries: Sequence[Dist], dims: tuple[str, ...]) -> Dist:
        """Scalar priors of one family as one vector prior along ``dims``."""
        family = entries[0].distribution
        if any(e.distribution != family for e in entries):
            raise ValueError("stacked priors must share a family")
        return cls(family, {k: [float(e.parameters[k]) for e in entries]
                            for k in DIST_PARAMS[family]}, dims)

    def components(self) -> tuple[tuple[np.ndarray, Dist], ...]:
        """``((weight per entry, component), ...)``: this prior alone, with weight 1."""
        return ((np.ones(next(iter(self.parameters.values())).shape), self),)

    # -- numbers -------------------------------------------------------------------------
    def scipy(self):
        """The frozen SciPy distribution (entries on the last axis)."""
        from scipy import stats

        p = self.parameters
        if self.distribution == "Beta":
            return stats.beta(p["alpha"], p["beta"])
        if self.distribution == "Normal":
            return stats.norm(p["mu"], p["sigma"])
        return stats.halfnorm(scale=p["sigma"])

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """Log density at ``x`` (entries on the last axis)."""
        return self.scipy().logpdf(x)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Distribution function at ``x`` (entries on the last axis)."""
        return self.scipy().cdf(x)

    def quantiles(self, j: int, q: Sequence[float]) -> list[float]:
        """Quantiles ``q`` of entry ``j``."""
        return [float(v) for v in self.entry(j).scipy().ppf(list(q))]

    def mean(self, j: int = 0) -> float:
        """The mean of entry ``j``."""
        return float(self.entry(j).scipy().mean())

    def draw(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        """``size`` draws (entries on the last axis), by NumPy."""
        p = self.parameters
        if self.distribution == "Beta":
            return rng.beta(p["alpha"], p["beta"], size=size)
        if self.distribution == "Normal":
            return rng.normal(p["mu"], p["sigma"], size=size)
        return np.abs(rng.normal(0.0, p["sigma"], size=size))


@dataclasses.dataclass(frozen=True, eq=False)
class LinearPool:
    """The linear pool ``(1 - w) f_elicited + w f_reference`` of one slot, entry by entry.

    ``weight`` is the reference component's probability per entry. An entry the
    reference class does not inform has two equal components, so its pool is its
    elicited prior exactly (Genest & Zidek 1986 on linear opinion pools).
    """

    elicited: Dist
    reference: Dist
    weight: np.ndarray

    def __post_init__(self) -> None:
        if self.elicited.distribution != self.reference.distribution:
            raise ValueError("a linear pool's components must share a family")
        w = np.broadcast_to(_array(self.weight), next(iter(
            self.elicited.parameters.values())).shape)
        if np.any((w < 0) | (w > 1)):
            raise ValueError(f"pool weights must lie in [0, 1], got {w}")
        object.__setattr__(self, "weight", _array(w))

    distribution = "Mixture"

    @property
    def family(self) -> str:
        return self.elicited.distribution

    @property
    def dims(self) -> tuple[str, ...]:
        return self.elicited.dims

    @property
    def size(self) -> int:
        return self.elicited.size

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, LinearPool) and other.elicited == self.elicited
                and other.reference == self.reference
                and np.array_equal(other.weight, self.weight))

    __hash__ = None  # type: ignore[assignment]

    def components(self) -> tuple[tuple[np.ndarray, Dist], ...]:
        return ((1.0 - self.weight, self.elicited), (self.weight, self.reference))

    def mixed(self) -> np.ndarray:
        """Which entries are a mixture of two different priors (0 < w < 1, components differ)."""
        differ = np.zeros(self.weight.shape, dtype=bool)
        for k, v in self.elicited.parameters.items():
            differ |= v != self.reference.parameters[k]
        return (self.weight > 0) & (self.weight < 1) & differ

    def to_dict(self) -> dict[str, Any]:
        """``{"dist": "Mixture", "family", "kwargs": {"weight", "elicited", "reference"},
        "dims"}``: the components' kwargs as in ``Prior.to_dict()``."""
        out: dict[str, Any] = {"dist": "Mixture", "family": self.family, "kwargs": {
            "weight": _plain(self.weight),
            "elicited": self.elicited.to_dict()["kwargs"],
            "reference": self.reference.to_dict()["kwargs"]}}
        if self.dims:
            out["dims"] = self.dims
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinearPool:
        kw, dims = data["kwargs"], tuple(data.get("dims") or ())
        return cls(Dist(data["family"], dict(kw["elicited"]), dims),
                   Dist(data["family"], dict(kw["reference"]), dims), kw["weight"])

    def create_variable(self, name: str):
        """A ``pm.Mixture`` of the two components, weights ``1 - w, w`` per entry (the
        latent source marginalised, so NUTS sees only continuous parameters)."""
        import pymc as pm

        dist = {"Beta": pm.Beta, "Normal": pm.Normal}[self.family]
        parts = [dist.dist(**{k: np.array(v) for k, v in c.parameters.items()})
                 for c in (self.elicited, self.reference)]
        w = np.array(self.weight)
        return pm.Mixture(name, w=np.stack([1.0 - w, w], axis=-1), comp_dists=parts,
                          dims=self.dims or None)

    def entry(self, j: int) -> LinearPool:
        return LinearPool(self.elicited.entry(j), self.reference.entry(j),
                          self.weight.reshape(-1)[j])

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """``log((1 - w) f_e(x) + w f_r(x))``, exact where ``w`` is 0 or 1."""
        log_e, log_r = self.elicited.logpdf(x), self.reference.logpdf(x)
        w = np.broadcast_to(self.weight, np.broadcast(log_e, log_r).shape)
        with np.errstate(divide="ignore"):
            out = np.logaddexp(np.log1p(-w) + log_e, np.log(w) + log_r)
        return np.where(w == 0, log_e, np.where(w == 1, log_r, out))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return (1.0 - self.weight) * self.elicited.cdf(x) + self.weight * self.reference.cdf(x)

    def quantiles(self, j: int, q: Sequence[float]) -> list[float]:
        """Quantiles of entry ``j``, by root finding between the components' quantiles."""
        from scipy import optimize

        one = self.entry(j)
        w = float(one.weight)
        if w in (0.0, 1.0):
            return (one.reference if w == 1.0 else one.elicited).quantiles(0, q)
        out = []
        for qi in q:
            ends = [c.scipy().ppf(qi) for c in (one.elicited, one.reference)]
            lo, hi = min(ends), max(ends)  # a mixture's quantile lies between its components'
            if hi - lo < 1e-12:
                out.append(float(lo))
                continue
            out.append(float(optimize.brentq(lambda t, qi=qi: float(one.cdf(t)) - qi, lo, hi,
                                             xtol=1e-12)))
        return out

    def mean(self, j: int = 0) -> float:
        w = float(self.weight.reshape(-1)[j])
        return (1.0 - w) * self.elicited.mean(j) + w * self.reference.mean(j)

    def draw(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        """Per draw and entry, the reference component with probability ``w``, else the
        elicited one (both drawn, one kept, so the choice and the value use separate streams)."""
        mine, theirs = self.elicited.draw(rng, size), self.reference.draw(rng, size)
        return np.where(rng.random(size) < self.weight, theirs, mine)


#: A slot's prior.
SlotPrior = Union[Dist, LinearPool]  # noqa: UP007  (a runtime alias, read by isinstance)


def slot_from_dict(data: Mapping[str, Any]) -> SlotPrior:
    """A slot's prior from :meth:`Dist.to_dict` or :meth:`LinearPool.to_dict`."""
    return LinearPool.from_dict(data) if data.get("dist") == "Mixture" else Dist.from_dict(data)


@dataclasses.dataclass(frozen=True, eq=False)
class Priors:
    """Every prior of a question's model (see :mod:`forecast.model` for the model)::

        p_state[k]   ~ Beta            P(evidence state k true by the horizon)
        p_base[b]    ~ Beta            P(keep base b | every state false)
        effect_mu[k] ~ Normal          log odds ratio shared by the bases
        effect_sd    ~ HalfNormal      how much the bases' effects differ
        beta[b, k]   = effect_mu[k] + effect_sd * z[b, k],  z ~ Normal(0, 1)

    ``p_base`` and ``effect_mu`` may be :class:`LinearPool` s.
    """

    p_state: Dist
    p_base: SlotPrior
    effect_mu: SlotPrior
    effect_sd: Dist

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Priors) and all(getattr(self, s) == getattr(other, s)
                                                 for s in SLOTS)

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, slot: str) -> SlotPrior:
        if slot not in SLOTS:
            raise KeyError(slot)
        return getattr(self, slot)

    def replace(self, **slots: SlotPrior) -> Priors:
        """A copy with some slots replaced (e.g. a prior pushed to an end of its interval)."""
        return dataclasses.replace(self, **slots)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Every slot's :meth:`Dist.to_dict` / :meth:`LinearPool.to_dict`."""
        return {s: getattr(self, s).to_dict() for s in SLOTS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> Priors:
        return cls(**{s: slot_from_dict(data[s]) for s in SLOTS})

    def draw(self, n: int, seed: int) -> dict[str, np.ndarray]:
        """``n`` independent draws of the parameters the forecast depends on, by NumPy.

        Returns ``{"p_state": (n, K), "p_base": (n, B), "beta": (n, B, K)}``; the same
        seed gives the same draws.
        """
        rng = np.random.default_rng(seed)
        k, b = self.p_state.size, self.p_base.size
        p_state = self.p_state.draw(rng, (n, k))
        p_base = self.p_base.draw(rng, (n, b))
        effect_mu = self.effect_mu.draw(rng, (n, k))
        effect_sd = self.effect_sd.draw(rng, (n, 1, 1))
        beta = effect_mu[:, None, :] + effect_sd * rng.normal(size=(n, b, k))
        return {"p_state": p_state, "p_base": p_base, "beta": beta}
