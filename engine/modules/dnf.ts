// dnf: RPM packages on Fedora / RHEL 8+ (shared with yum in packages-rpm.ts).
import { rpmModule } from './packages-rpm.js';

export default rpmModule('dnf');
