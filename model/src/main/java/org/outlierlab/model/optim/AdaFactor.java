package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdaFactor as SCIENCE.md §3.2 uses it: Adam's momentum with a factored second moment. For a matrix G (m×n) it
 * keeps row sums a ← β2·a + (1−β2)·Σ_j G², column sums c ← β2·c + (1−β2)·Σ_i G², and estimates
 * V̂ = a·cᵀ / Σa (a rank-1 fit, O(m+n) memory); vectors and scalars keep Adam's full V. Updates are
 * m̂/(√V̂ + ε) with bias correction (ε where {@link EpsPlacement} says, for matrices and vectors alike), plus
 * decoupled weight decay on matrices.
 */
public final class AdaFactor implements Optimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final EpsPlacement placement;
  private final double weightDecay;
  private final Map<String, INDArray> m = new LinkedHashMap<>();
  /** Row sums (matrices) or the full second moment (vectors, scalars). */
  private final Map<String, INDArray> rows = new LinkedHashMap<>();
  private final Map<String, INDArray> cols = new LinkedHashMap<>();
  private final StepCounter counter = new StepCounter();

  /** ε after the bias correction, as PyTorch's AdamW. */
  public AdaFactor(double beta1, double beta2, double eps, double weightDecay) {
    this(beta1, beta2, eps, EpsPlacement.TORCH, weightDecay);
  }

  public AdaFactor(double beta1, double beta2, double eps, EpsPlacement placement, double weightDecay) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.placement = placement;
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr, ParameterLoop loop) {
    counter.t++;
    Map<String, INDArray> trained = Optimizer.trained(params, grads);
    trained.forEach((name, p) -> { // state created here, in order, so that the loop's bodies only read the maps
      m.computeIfAbsent(name, k -> Nd4j.zerosLike(p));
      if (p.rank() != 2) {
        rows.computeIfAbsent(name, k -> Nd4j.zerosLike(p)); // vectors and scalars: plain Adam's second moment
      } else {
        rows.computeIfAbsent(name, k -> Nd4j.zeros(p.dataType(), p.size(0), 1));
        cols.computeIfAbsent(name, k -> Nd4j.zeros(p.dataType(), 1, p.size(1)));
      }
    });
    double epsilon = placement.onCorrected(eps, beta2, counter.t);
    loop.forEach(trained, (name, p) -> {
      INDArray g = grads.get(name);
      if (p.rank() != 2) {
        // vectors and scalars: plain Adam (no decay, Optimizer.decays is false for them)
        FusedOps.adamW(p, g, m.get(name), rows.get(name), lr, 0, beta1, beta2, epsilon, counter.t);
        return;
      }
      if (weightDecay != 0) {
        p.muli(1 - lr * weightDecay);
      }
      p.subi(factoredDirection(g, m.get(name), rows.get(name), cols.get(name), lr, beta1, beta2, epsilon,
          counter.t));
    });
  }

  /**
   * The factored rule for a matrix gradient {@code g} at 1-based step {@code t}: updates the momentum m, row sums a
   * (m×1) and column sums c (1×n) in place and returns lr·m̂/(√V̂ + ε), not yet applied.
   */
  static INDArray factoredDirection(INDArray g, INDArray m, INDArray a, INDArray c, double lr, double beta1,
      double beta2, double eps, long t) {
    double c1 = 1 - Math.pow(beta1, t);
    double c2 = 1 - Math.pow(beta2, t);
    m.muli(beta1).addi(g.mul(1 - beta1));
    INDArray squared = g.mul(g);
    a.muli(beta2).addi(squared.sum(true, 1).muli(1 - beta2));
    c.muli(beta2).addi(squared.sum(true, 0).muli(1 - beta2));
    INDArray vHat = a.mmul(c).divi(a.sumNumber().doubleValue()).divi(c2);
    return m.div(c1).divi(Transforms.sqrt(vHat, false).addi(eps)).muli(lr);
  }

  @Override
  public Map<String, INDArray> state() {
    Map<String, INDArray> s = new LinkedHashMap<>();
    m.forEach((k, a) -> s.put("m/" + k, a));
    rows.forEach((k, a) -> s.put("row/" + k, a));
    cols.forEach((k, a) -> s.put("col/" + k, a));
    counter.save(s);
    return s;
  }

  @Override
  public void loadState(Map<String, INDArray> state) {
    m.clear();
    rows.clear();
    cols.clear();
    state.forEach((k, a) -> {
      int slash = k.indexOf('/');
      if (slash > 0) {
        Map<String, INDArray> target = switch (k.substring(0, slash)) {
          case "m" -> m;
          case "row" -> rows;
          case "col" -> cols;
          default -> throw new IllegalArgumentException("unknown AdaFactor state " + k);
        };
        target.put(k.substring(slash + 1), a.dup());
      }
    });
    counter.load(state);
  }
}
