// Step 8. The published name `forge` means cloudflared ingress: route each of the app's `endpoints` hostnames to
// the service address of a healthy instance of its routed process, in the cloudflared config file, then reload
// cloudflared. The address is resolved here (not taken from the healthy step), so the step also works on its
// own, e.g. when re-run after fixing the config file. Without any cloudflared config file the deploy completes as
// live but not routed (see below); README "Troubleshooting" says what an operator sees.
import { ingressRoutes } from '../ingress/ingress-routes.js';
import { describeIngressChange } from '../ingress/describe-ingress-change.js';
import type { ResolveServiceAddress } from '../ingress/resolve-service-address.js';
import { CommandError, StepFailedError } from '../../errors.js';
import { CloudflaredConfigError } from '../../integrations/cloudflared/cloudflared-config-error.js';
import type { CloudflaredIngress } from '../ingress/cloudflared-ingress.js';
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
      const routes = ingressRoutes(spec, target);
      const others = target.healthyInstances > 1 ? `, 1 of ${target.healthyInstances} healthy instances` : '';
      report(`routing ${routes.map((r) => r.hostname).join(', ')} to ${routes[0]!.service} (${target.process}, ${target.source} ${target.instance}${others})`, {
        action: 'cloudflared.target',
        metadata: {
          ...target,
        },
      });

      let change;
      try {
        change = await deps.ingress.applyRoutes(spec.name, routes, { signal });
      } catch (err) {
        // No config file at all: this receiver has no tunnel to route through. The new version is already live and
        // healthy, so failing the deploy would say the opposite of what runs; it completes as "live, not routed"
        // and says so everywhere (saga, status, CLI). A file that exists but is broken or conflicts still fails:
        // routing was set up, and it no longer does what the operator asked.
        if (err instanceof CloudflaredConfigError && err.kind === 'missing') {
          const notRouted = `no cloudflared config at ${err.path} (NORN_CLOUDFLARED_CONFIG)`;
          const hostnames = routes.map((r) => r.hostname);
          report(`live, not routed: ${notRouted}; ${hostnames.join(', ')} do not reach ${spec.name} until it exists and the deploy runs again`, {
            action: 'cloudflared.not-routed',
            metadata: {
              configPath: err.path,
              hostnames,
            },
          });
          return done({ notRouted }, `live, not routed: ${notRouted}`);
        }
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
        report('cloudflared must be restarted to load the new ingress rules', { action: 'cloudflared.restart-needed', metadata: { configPath: change.configPath } });
      }
      return done({ routes: routes.map((r) => ({ ...r, process: target.process })) }, describeIngressChange(change));
    },
  };
}
