package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** SGD with (PyTorch-style) momentum and decoupled weight decay: b ← μ·b + g, p ← p − lr·wd·p − lr·b. */
public final class SgdMomentum implements Optimizer {
  private final double momentum;
  private final double weightDecay;
  private final Map<String, INDArray> buffers = new LinkedHashMap<>();
  private final StepCounter counter = new StepCounter();

  public SgdMomentum(double momentum, double weightDecay) {
    this.momentum = momentum;
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr, ParameterLoop loop) {
    counter.t++;
    Map<String, INDArray> trained = Optimizer.trained(params, grads);
    trained.forEach((name, p) -> buffers.computeIfAbsent(name, k -> Nd4j.zerosLike(p))); // in order, before the loop
    loop.forEach(trained, (name, p) -> {
      INDArray b = buffers.get(name);
      b.muli(momentum).addi(grads.get(name));
      if (weightDecay != 0 && Optimizer.decays(p)) {
        p.muli(1 - lr * weightDecay);
      }
      p.subi(b.mul(lr));
    });
  }

  @Override
  public Map<String, INDArray> state() {
    Map<String, INDArray> s = new LinkedHashMap<>();
    buffers.forEach((k, a) -> s.put("momentum/" + k, a));
    counter.save(s);
    return s;
  }

  @Override
  public void loadState(Map<String, INDArray> state) {
    buffers.clear();
    state.forEach((k, a) -> {
      if (k.startsWith("momentum/")) {
        buffers.put(k.substring("momentum/".length()), a.dup());
      }
    });
    counter.load(state);
  }
}
