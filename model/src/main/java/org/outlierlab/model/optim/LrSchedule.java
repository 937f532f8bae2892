package org.outlierlab.model.optim;

import java.io.Serializable;

/**
 * Linear warm-up to {@code peak} over {@code warmupSteps}, then linear or cosine decay to {@code floor} at
 * {@code totalSteps} (or constant). Steps count from 0; defined in global steps, so the schedule does not
 * depend on how many workers ran them.
 */
public record LrSchedule(double peak, long warmupSteps, long totalSteps, Decay decay, double floor)
    implements Serializable {

  public enum Decay {
    LINEAR,
    COSINE,
    CONSTANT
  }

  public double at(long step) {
    if (step < warmupSteps) {
      return peak * (step + 1) / warmupSteps;
    }
    if (decay == Decay.CONSTANT || totalSteps <= warmupSteps) {
      return peak;
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
    return switch (decay) {
      case LINEAR -> peak + (floor - peak) * progress;
      case COSINE -> floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
      case CONSTANT -> peak;
    };
  }
}
