package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), as PyTorch's AdamW: p ← p − lr·wd·p (matrices
 * only), then m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr·m̂/(√v̂ + ε) with bias-corrected m̂, v̂: one
 * pass over each parameter ({@link FusedOps#adamW}); ε where {@link EpsPlacement} says. May overwrite the gradients.
 */
public final class AdamW implements Optimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final EpsPlacement placement;
  private final double weightDecay;
  private final Map<String, INDArray> m = new LinkedHashMap<>();
  private final Map<String, INDArray> v = new LinkedHashMap<>();
  private final StepCounter counter = new StepCounter();

  /** PyTorch's AdamW (ε after the bias correction). */
  public AdamW(double beta1, double beta2, double eps, double weightDecay) {
    this(beta1, beta2, eps, EpsPlacement.TORCH, weightDecay);
  }

  public AdamW(double beta1, double beta2, double eps, EpsPlacement placement, double weightDecay) {
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
      v.computeIfAbsent(name, k -> Nd4j.zerosLike(p));
    });
    double epsilon = placement.onCorrected(eps, beta2, counter.t);
    loop.forEach(trained, (name, p) -> FusedOps.adamW(p, grads.get(name), m.get(name), v.get(name), lr,
        Optimizer.decays(p) ? weightDecay : 0, beta1, beta2, epsilon, counter.t));
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
