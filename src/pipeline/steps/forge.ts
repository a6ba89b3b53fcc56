// Step 8. The published name `forge` means cloudflared ingress: route each of the app's `endpoints` hostnames to
// the service address of a healthy instance of its routed process, in the cloudflared config file, then reload
// cloudflared. The address is resolved here (not taken from the healthy step), so the step also works on its
// own, e.g. when re-run after fixing the config file.
import { endpointRoutes } from '../../endpoints/endpoint-routes.js';
import { describeIngressChange } from '../../endpoints/describe-ingress-change.js';
import type { ResolveServiceAddress } from '../../endpoints/resolve-service-address.js';
import { CommandError, StepFailedError } from '../../errors.js';
import { CloudflaredConfigError } from '../../integrations/cloudflared/cloudflared-config-error.js';
import type { CloudflaredIngress } from '../../integrations/cloudflared/cloudflared-ingress.js';
import { done, skipped, type Step } from '../step.js';

export interface ForgeStepDeps {
  readonly ingress: Pick<CloudflaredIngress, 'applyRoutes'>;
  readonly resolveServiceAddress: ResolveServiceAddress;
}

export function forgeStep(deps: ForgeStepDeps): Step {
  return {
    name: 'forge',
    async run({ spec, signal, report }) {
      if (!spec.endpoints?.length) return skipped('no endpoints');
      const target = await deps.resolveServiceAddress(spec, signal);
      const routes = endpointRoutes(spec, target);
      const others = target.healthyInstances > 1 ? `, 1 of ${target.healthyInstances} healthy instances` : '';
      report(`routing ${routes.map((r) => r.hostname).join(', ')} to ${routes[0]!.service} (${target.process}, ${target.source} ${target.instance}${others})`, {
        action: 'cloudflared.target',
        ...target,
      });

      let change;
      try {
        change = await deps.ingress.applyRoutes(spec.name, routes, { signal });
      } catch (err) {
        if (err instanceof CloudflaredConfigError) {
          throw new StepFailedError('forge', err.message, { configPath: err.path, kind: err.kind, problems: err.problems }, { cause: err });
        }
        if (err instanceof CommandError) {
          const detail = { exitCode: err.exitCode, stderrTail: err.stderrTail };
          throw new StepFailedError('forge', `ingress rules written, but reloading cloudflared failed: ${err.message}`, detail, { cause: err });
        }
        throw err;
      }
      for (const warning of change.warnings) report(warning, { action: 'cloudflared.warning' });
      if (change.reload.status === 'not-configured') {
        report('cloudflared must be restarted to load the new ingress rules', { action: 'cloudflared.restart-needed', configPath: change.configPath });
      }
      return done({ routes: routes.map((r) => ({ ...r, process: target.process })) }, describeIngressChange(change));
    },
  };
}
