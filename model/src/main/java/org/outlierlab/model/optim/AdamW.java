package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), as PyTorch's AdamW: p ← p − lr·wd·p (matrices
 * only), then m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr·m̂/(√v̂ + ε) with bias-corrected m̂, v̂.
 */
public final class AdamW implements Optimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final Map<String, INDArray> m = new LinkedHashMap<>();
  private final Map<String, INDArray> v = new LinkedHashMap<>();
  private final StepCounter counter = new StepCounter();

  public AdamW(double beta1, double beta2, double eps, double weightDecay) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr, ParameterLoop loop) {
    counter.t++;
    Map<String, INDArray> trained = Optimizer.trained(params, grads);
    trained.forEach((name, p) -> { // state created here, in order, so that the loop's bodies only read the maps
      m.computeIfAbsent(name, k -> Nd4j.zerosLike(p));
      v.computeIfAbsent(name, k -> Nd4j.zerosLike(p));
    });
    loop.forEach(trained, (name, p) -> {
      if (weightDecay != 0 && Optimizer.decays(p)) {
        p.muli(1 - lr * weightDecay);
      }
      adamUpdate(p, grads.get(name), m.get(name), v.get(name), lr, beta1, beta2, eps, counter.t);
    });
  }

  /**
   * One Adam step at 1-based step {@code t} on p, m and v in place, with ND4J's fused updater: one pass over
   * memory instead of a dozen element-wise ops with temporaries (for 130M parameters, seconds per step). The
   * fused op adds ε to √v before the bias correction; passing ε·√(1−β2^t) gives PyTorch's m̂/(√v̂ + ε) exactly.
   * Overwrites {@code g} with the update.
   */
  static void adamUpdate(INDArray p, INDArray g, INDArray m, INDArray v, double lr, double beta1, double beta2,
      double eps, long t) {
    p.subi(adamDirection(g, m, v, lr, beta1, beta2, eps, t));
  }

  /** The fused step of {@link #adamUpdate} without applying it: returns {@code g}, overwritten with lr·m̂/(√v̂ + ε). */
  static INDArray adamDirection(INDArray g, INDArray m, INDArray v, double lr, double beta1, double beta2, double eps,
      long t) {
    double epsilon = eps * Math.sqrt(1 - Math.pow(beta2, t));
    Nd4j.exec(new AdamUpdater(g, v, m, lr, beta1, beta2, epsilon, Math.toIntExact(t - 1)));
    return g;
  }

  @Override
  public Map<String, INDArray> state() {
    Map<String, INDArray> s = new LinkedHashMap<>();
    m.forEach((k, a) -> s.put("m/" + k, a));
    v.forEach((k, a) -> s.put("v/" + k, a));
    counter.save(s);
    return s;
  }

  @Override
  public void loadState(Map<String, INDArray> state) {
    m.clear();
    v.clear();
    state.forEach((k, a) -> {
      if (k.startsWith("m/")) {
        m.put(k.substring(2), a.dup());
      } else if (k.startsWith("v/")) {
        v.put(k.substring(2), a.dup());
      }
    });
    counter.load(state);
  }
}
