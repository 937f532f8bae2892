package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A diagonal rule (Adam's for {@link Soap}, AdaFactor's for {@link RotatedAdaFactor}) run in the eigenbasis of
 * Shampoo's preconditioner, as SOAP does it (SCIENCE.md §3.1, reference nikhilvyas/SOAP soap.py). What the two share:
 * <ul>
 *   <li>A parameter's first step only starts its preconditioner ({@link ShampooBasis#start}) and moments, and
 *       does not update it; that call is not counted in the step t.
 *   <li>A matrix with a basis: G' = Q_Lᵀ G Q_R, the rule's direction N' from G' in that basis, p ← p − Q_L N' Q_Rᵀ
 *       (after decoupled weight decay, on matrices only). Then the factors take in G (after the update, so that
 *       a gradient never shapes its own projection), and every {@code frequency} steps the bases are refreshed:
 *       the momentum is re-expressed in the new basis and the second moment re-ordered (not rotated).
 *   <li>Vectors, scalars, and matrices with both axes longer than maxPrecondDim are not rotated: the rule runs on G.
 * </ul>
 * Parameter averaging ({@link #averaged}): moments, factors and the step are averaged; the bases are not: a basis
 * the workers shared is kept, otherwise it is recomputed from the averaged factor ({@link ShampooBasis#settle}).
 *
 * <p>State: {@code m/} (momentum, in the basis), the rule's second moment, the bases' keys ({@link ShampooBasis})
 * and {@code step}.
 */
abstract class EigenbasisOptimizer implements Optimizer {
  final double beta1;
  final double beta2;
  final double shampooBeta;
  final double eps;
  final EpsPlacement placement;
  final double weightDecay;
  final int frequency;
  final int maxPrecondDim;
  /** First moments, expressed in each matrix's current basis. */
  final Map<String, INDArray> momentum = new LinkedHashMap<>();
  private final Map<String, ShampooBasis> bases = new LinkedHashMap<>();
  private final StepCounter counter = new StepCounter();

  /** shampooBeta &lt; 0 means β2 (the reference's −1). */
  EigenbasisOptimizer(double beta1, double beta2, double shampooBeta, double eps, EpsPlacement placement,
      double weightDecay, int frequency, int maxPrecondDim) {
    if (frequency < 1 || maxPrecondDim < 0) {
      throw new IllegalArgumentException("precondition frequency must be >= 1 and max dimension >= 0, got "
          + frequency + " and " + maxPrecondDim);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.shampooBeta = shampooBeta < 0 ? beta2 : shampooBeta;
    this.eps = eps;
    this.placement = placement;
    this.weightDecay = weightDecay;
    this.frequency = frequency;
    this.maxPrecondDim = maxPrecondDim;
  }

  /** Zero second-moment state for a parameter's first step. */
  abstract void startSecondMoment(String name, INDArray p);

  /**
   * The rule at 1-based step t: updates the moments with g (in the parameter's basis) and returns lr·(the rule's
   * direction) in that basis. May overwrite g.
   */
  abstract INDArray direction(String name, INDArray g, double lr, long t);

  /** Puts the second moment's rows (axis 0) or columns (axis 1) in the order a refresh gave the basis' columns. */
  abstract void reorder(String name, int axis, int[] order);

  /** The second moment's maps, by state key prefix. */
  abstract Map<String, Map<String, INDArray>> secondMoments();

  @Override
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr, ParameterLoop loop) {
    // serial (the loop is not used): a parameter's first step and the basis refreshes create state in this
    // object's maps while they run, which the loop's bodies may not do
    if (!momentum.isEmpty()) {
      counter.t++; // the first call only starts the preconditioners
    }
    long t = counter.t;
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      String name = e.getKey();
      INDArray g = grads.get(name);
      if (g == null) {
        continue; // frozen: no gradient, no update
      }
      INDArray p = e.getValue();
      if (!momentum.containsKey(name)) {
        start(name, p, g);
        continue;
      }
      if (weightDecay != 0 && Optimizer.decays(p)) {
        p.muli(1 - lr * weightDecay);
      }
      ShampooBasis basis = bases.get(name);
      if (basis == null) {
        p.subi(direction(name, g, lr, t));
        continue;
      }
      p.subi(basis.rotateBack(direction(name, basis.rotate(g), lr, t)));
      basis.accumulate(g, shampooBeta);
      if (t % frequency == 0) {
        int[][] orders = basis.refresh(momentum.get(name));
        for (int axis = 0; axis < 2; axis++) {
          if (orders[axis] != null) {
            reorder(name, axis, orders[axis]);
          }
        }
      }
    }
  }

  private void start(String name, INDArray p, INDArray g) {
    momentum.put(name, Nd4j.zerosLike(p));
    startSecondMoment(name, p);
    if (ShampooBasis.rotates(p, maxPrecondDim)) {
      bases.put(name, ShampooBasis.start(g, shampooBeta, maxPrecondDim));
    }
  }

  @Override
  public Map<String, INDArray> state() {
    Map<String, INDArray> s = new LinkedHashMap<>();
    momentum.forEach((k, a) -> s.put("m/" + k, a));
    secondMoments().forEach((prefix, map) -> map.forEach((k, a) -> s.put(prefix + "/" + k, a)));
    bases.forEach((k, b) -> b.save(s, k));
    counter.save(s);
    return s;
  }

  @Override
  public void loadState(Map<String, INDArray> state) {
    momentum.clear();
    secondMoments().values().forEach(Map::clear);
    Map<String, INDArray> copy = new LinkedHashMap<>();
    state.forEach((k, a) -> copy.put(k, a.dup()));
    bases.clear();
    bases.putAll(ShampooBasis.load(copy));
    copy.forEach((k, a) -> {
      int slash = k.indexOf('/');
      if (slash > 0) {
        String prefix = k.substring(0, slash);
        String name = k.substring(slash + 1);
        if (prefix.equals("m")) {
          momentum.put(name, a);
        } else if (secondMoments().containsKey(prefix)) {
          secondMoments().get(prefix).put(name, a);
        } else if (!ShampooBasis.KEYS.contains(prefix)) {
          throw new IllegalArgumentException("unknown " + getClass().getSimpleName() + " state " + k);
        }
      }
    });
    counter.load(state);
  }

  /**
   * Every moment and factor (and the step) is averaged; the eigenbases are not: each is settled by
   * {@link ShampooBasis#settle} from the workers' mean basis and the averaged factor.
   */
  @Override
  public Map<String, INDArray> averaged(Map<String, INDArray> summed, int workers) {
    Map<String, INDArray> out = Optimizer.super.averaged(summed, workers);
    ShampooBasis.load(out).forEach((name, basis) -> {
      basis.settle(out.get("m/" + name));
      basis.save(out, name);
    });
    return out;
  }
}
