package org.outlierlab.model.train;

import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.GradientClipping;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.optim.Optimizer;

/**
 * One optimisation step: forward and backward, clip by global norm, learning rate from the schedule, update.
 * A non-finite loss or gradient norm stops training before the parameters are touched.
 */
public final class TrainStep {
  private final TransformerLM model;
  private final Optimizer optimizer;
  private final LrSchedule schedule;
  private final double clipNorm;

  /** What a step did: its loss, learning rate, gradient norm (before clipping) and captured activations. */
  public record Result(long step, double loss, double lr, double gradNorm, Map<String, INDArray> activations) {}

  /** Training diverged: the loss or the gradient is not finite. The parameters are as before the step. */
  public static final class DivergedException extends RuntimeException {
    public DivergedException(String message) {
      super(message);
    }
  }

  public TrainStep(TransformerLM model, Optimizer optimizer, LrSchedule schedule, double clipNorm) {
    this.model = model;
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.clipNorm = clipNorm;
  }

  /** Runs global step {@code step} (0-based) on a batch of [B][seqLen] inputs and targets. */
  public Result run(long step, int[][] inputs, int[][] targets, Set<String> capture) {
    TransformerLM.Pass pass = model.forwardBackward(inputs, targets, capture);
    double gradNorm = GradientClipping.clip(pass.gradients(), clipNorm, model.parameterLoop());
    if (!Double.isFinite(pass.loss()) || !Double.isFinite(gradNorm)) {
      throw new DivergedException(String.format(
          "training diverged at step %d: loss %s, gradient norm %s; lower the learning rate or raise the warm-up",
          step, pass.loss(), gradNorm));
    }
    double lr = schedule.at(step);
    optimizer.step(model.parameters(), pass.gradients(), lr, model.parameterLoop());
    return new Result(step, pass.loss(), lr, gradNorm, pass.activations());
  }
}
