package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

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
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
    counter.t++;
    double c1 = 1 - Math.pow(beta1, counter.t);
    double c2 = 1 - Math.pow(beta2, counter.t);
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      if (!grads.containsKey(e.getKey())) {
        continue; // frozen: no gradient, no update
      }
      INDArray p = e.getValue();
      INDArray g = grads.get(e.getKey());
      INDArray mi = m.computeIfAbsent(e.getKey(), k -> Nd4j.zerosLike(p));
      INDArray vi = v.computeIfAbsent(e.getKey(), k -> Nd4j.zerosLike(p));
      if (weightDecay != 0 && Optimizer.decays(p)) {
        p.muli(1 - lr * weightDecay);
      }
      mi.muli(beta1).addi(g.mul(1 - beta1));
      vi.muli(beta2).addi(g.mul(g).muli(1 - beta2));
      INDArray denominator = Transforms.sqrt(vi.div(c2), false).addi(eps);
      p.subi(mi.div(c1).divi(denominator).muli(lr));
    }
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
