"""Learned dynamics of Meta-World's Sawyer state (the state side of a grounded Meta-World world model).

``config.py`` (typed configs, the state layout), ``dynamics.py`` (the MLP), ``dynamics_train.py``
(training on rollouts of its own predictions; ``load_dynamics``). Measured with
``benchmarks/bench_sawyer_dynamics.py``; results in ``README.md``.
"""
